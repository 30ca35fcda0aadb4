import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { dirname } from 'node:path';

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  uid?: number;
  gid?: number;
  timeoutMs?: number;
  /** Written to the command's stdin (secrets go here, never into arguments: those are visible to every local user). */
  input?: string;
}

/** Runs a command to completion and captures its output; never throws on a non-zero exit. */
export function runCommand(cmd: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    const child = spawn(cmd, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      uid: options.uid,
      gid: options.gid,
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    if (options.input !== undefined) child.stdin?.end(options.input);
    const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
    child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', (err) => {
      if (timer) clearTimeout(timer);
      resolve({ code: 127, stdout, stderr: stderr + String(err.message) });
    });
    child.on('close', (code) => {
      if (timer) clearTimeout(timer);
      resolve({ code: code ?? 1, stdout, stderr });
    });
  });
}

/** Like runCommand but throws with the tail of the output when the command fails. */
export async function runChecked(what: string, cmd: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const result = await runCommand(cmd, args, options);
  if (result.code !== 0) {
    const tail = `${result.stdout}\n${result.stderr}`.trim().split('\n').slice(-25).join('\n');
    throw new Error(`${what} failed (exit ${result.code}): ${cmd} ${args.join(' ')}\n${tail}`);
  }
  return result;
}

export interface SpawnedProcess {
  pid: number;
  logFile: string;
}

/**
 * Starts a long-running server detached from this process (it must outlive `infra up`),
 * with stdout and stderr appended to a fresh log file.
 */
export function spawnDetached(cmd: string, args: readonly string[], logFile: string, options: Omit<RunOptions, 'timeoutMs'> = {}): SpawnedProcess {
  mkdirSync(dirname(logFile), { recursive: true });
  const fd = openSync(logFile, 'w');
  try {
    const child = spawn(cmd, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      uid: options.uid,
      gid: options.gid,
      detached: true,
      stdio: ['ignore', fd, fd],
    });
    if (child.pid === undefined) throw new Error(`could not start ${cmd}`);
    child.unref();
    return { pid: child.pid, logFile };
  } finally {
    closeSync(fd);
  }
}

/** True when the pid runs and is not a zombie (kill(0) alone succeeds for zombies). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return existsSync(`/proc/${pid}`);
  }
}

/** True when `pid` is alive and its command line contains `marker` (guards against recycled pids). */
export function isOurProcess(pid: number, marker: string | undefined): boolean {
  if (!isAlive(pid)) return false;
  if (marker === undefined) return true;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').includes(marker);
  } catch {
    return false;
  }
}

/** Socket inodes listening on a TCP port (IPv4 and IPv6 tables), read from /proc. */
function listeningInodes(port: number): Set<string> {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    if (!existsSync(table)) continue;
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      const local = fields[1];
      // state 0A is LISTEN
      if (local === undefined || fields[3] !== '0A' || fields[9] === undefined) continue;
      if (Number.parseInt(local.slice(local.lastIndexOf(':') + 1), 16) === port) inodes.add(fields[9]);
    }
  }
  return inodes;
}

/** The process listening on a TCP port with its command line, when /proc lets us see it. */
export function portListener(port: number): { pid: number; cmdline: string } | undefined {
  const inodes = listeningInodes(port);
  if (inodes.size === 0) return undefined;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${entry}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let target: string;
      try {
        target = readlinkSync(`/proc/${entry}/fd/${fd}`);
      } catch {
        continue;
      }
      const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
      if (inode === undefined || !inodes.has(inode)) continue;
      try {
        return { pid: Number(entry), cmdline: readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ') };
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

export function isPortOpen(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    const done = (open: boolean): void => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls `probe` until it returns true. Fails early when `pid` dies, quoting its log, because
 * a crashed server would otherwise look like a slow one until the timeout.
 */
export async function waitUntil(
  what: string,
  probe: () => Promise<boolean>,
  options: { timeoutMs: number; intervalMs?: number; pid?: number; logFile?: string },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    if (await probe().catch(() => false)) return;
    if (options.pid !== undefined && !isAlive(options.pid)) {
      throw new Error(`${what}: the process (pid ${options.pid}) exited${logTail(options.logFile)}`);
    }
    if (Date.now() > deadline) {
      throw new Error(`${what}: not ready after ${options.timeoutMs} ms${logTail(options.logFile)}`);
    }
    await pause(options.intervalMs ?? 250);
  }
}

export function logTail(logFile: string | undefined, lines = 20): string {
  if (logFile === undefined || !existsSync(logFile)) return '';
  const tail = readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  return `\n--- last lines of ${logFile} ---\n${tail}`;
}

/** SIGTERM (or the server's own graceful signal), wait, then SIGKILL. Resolves once the pid is gone. */
export async function stopProcess(pid: number, options: { signal?: NodeJS.Signals; graceMs?: number } = {}): Promise<'stopped' | 'killed' | 'not-running'> {
  if (!isAlive(pid)) return 'not-running';
  try {
    process.kill(pid, options.signal ?? 'SIGTERM');
  } catch {
    return 'not-running';
  }
  const deadline = Date.now() + (options.graceMs ?? 30_000);
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return 'stopped';
    await pause(100);
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return 'stopped';
  }
  while (isAlive(pid)) await pause(50);
  return 'killed';
}

/**
 * Makes sure nothing listens on the port before a server is started there. A server whose
 * command line names one of `ownedPaths` was started by an earlier checkout at this path that
 * lost its state (CI clones afresh into a reused directory; a run killed on timeout leaves its
 * detached servers behind): nobody else can manage it, so it is stopped. Anything else is
 * somebody else's and is left alone, with an error that says how to choose another port.
 */
export async function reclaimPort(
  what: string,
  host: string,
  port: number,
  options: { ownedPaths: readonly string[]; signal?: NodeJS.Signals; hint: string; log: (line: string) => void },
): Promise<void> {
  if (!(await isPortOpen(host, port))) return;
  const listener = portListener(port);
  if (listener !== undefined && options.ownedPaths.some((path) => listener.cmdline.includes(path))) {
    const result = await stopProcess(listener.pid, { signal: options.signal ?? 'SIGTERM', graceMs: 30_000 });
    options.log(`${what}: ${host}:${port} was held by pid ${listener.pid}, left running by an earlier checkout at this path; ${result}`);
    return;
  }
  throw new Error(`${what}: ${host}:${port} is already in use by a process the harness did not start; ${options.hint}`);
}

function canListen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/**
 * A free port below the kernel's ephemeral range (32768+ on Linux): no process asking for port 0 can take it
 * between this check and its use, so it stays free for a server started on it a moment later.
 */
export async function freePortOutsideEphemeralRange(host = '127.0.0.1'): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 10_000);
    if (await canListen(host, port)) return port;
  }
}
