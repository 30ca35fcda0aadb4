import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { kafkaSaslEnv } from '@grantline/messaging';

const ROOT = join(__dirname, '../../../..');
const FIXTURE = join(__dirname, 'bootstrap.fixture-main.ts');

export interface FixtureProcess {
  readonly child: ChildProcess;
  readonly records: () => Record<string, unknown>[];
  /** Resolves with the first record that matches, rejects when the process exits first or time is up. */
  waitForRecord(match: (record: Record<string, unknown>) => boolean, timeoutMs: number): Promise<Record<string, unknown>>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts the fixture service as its own process (as `node -r @swc-node/register` would run a main.ts). */
export function runFixture(env: NodeJS.ProcessEnv): FixtureProcess {
  const child = spawn(process.execPath, ['-r', '@swc-node/register', FIXTURE], {
    cwd: ROOT,
    // the harness's Kafka login (a SASL broker) goes with the endpoints, like a deployment's secret
    env: { PATH: process.env['PATH'], ...kafkaSaslEnv(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  const listeners = new Set<() => void>();
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
    for (const listener of listeners) listener();
  });
  child.stderr?.resume();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      resolve({ code, signal });
      for (const listener of listeners) listener();
    });
  });
  const records = (): Record<string, unknown>[] =>
    stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return {
    child,
    records,
    exited,
    waitForRecord: (match, timeoutMs) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => finish(new Error(`no matching log record within ${timeoutMs} ms:\n${stdout}`)), timeoutMs);
        const check = (): void => {
          const found = records().find(match);
          if (found) finish(undefined, found);
          else if (child.exitCode !== null || child.signalCode !== null) finish(new Error(`process exited first:\n${stdout}`));
        };
        function finish(error: Error | undefined, record?: Record<string, unknown>): void {
          clearTimeout(timer);
          listeners.delete(check);
          if (record) resolve(record);
          else reject(error ?? new Error('unreachable'));
        }
        listeners.add(check);
        check();
      }),
  };
}
