import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export interface Baseline {
  readonly events: number;
  /** B1's raw kafkajs phase: idempotent acks=all produce, then a consumer group reading it back, events/s. */
  readonly rawEndToEnd: number;
  /** The same bytes through libs/messaging, events/s. */
  readonly messagingEndToEnd: number;
}

/**
 * B1 (`npm run bench`) as this run's first phase, in a child process: on the same broker, before the platform starts,
 * so it competes with nothing of ours. Its figures are read from its closing JSON line and its table is shown with a
 * prefix; that JSON line is not repeated, so this run still ends with exactly one.
 */
export function runBaseline(events: number, show: (line: string) => void): Promise<Baseline> {
  const child = spawn(process.execPath, ['-r', '@swc-node/register', 'bench/run.ts', 'messaging'], {
    cwd: join(__dirname, '../..'),
    env: { ...process.env, BENCH_EVENTS: String(events) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let result: Record<string, unknown> | undefined;
  createInterface({ input: child.stdout, crlfDelay: Infinity }).on('line', (line) => {
    if (line.startsWith('{')) {
      try {
        result = JSON.parse(line) as Record<string, unknown>;
        return;
      } catch {
        // not the closing line
      }
    }
    if (line.trim() !== '') show(`  B1 | ${line}`);
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      const raw = (result?.['raw'] as { endToEnd?: unknown } | undefined)?.endToEnd;
      const lib = (result?.['messaging'] as { endToEnd?: unknown } | undefined)?.endToEnd;
      if (code !== 0 || typeof raw !== 'number' || typeof lib !== 'number') reject(new Error(`the B1 baseline failed (exit ${String(code)})`));
      else resolve({ events, rawEndToEnd: raw, messagingEndToEnd: lib });
    });
  });
}
