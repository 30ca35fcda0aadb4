import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { InfraPaths } from './infra.config';
import type { InfraLog } from './infra.types';
import { isAlive } from './process.util';

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Serialises `up`/`down` across processes: engineers share one checkout and may start two
 * jest runs at once. A directory is created atomically; a lock left by a dead pid is taken over.
 */
export async function withInfraLock<T>(paths: InfraPaths, log: InfraLog, fn: () => Promise<T>, timeoutMs = 30 * 60_000): Promise<T> {
  mkdirSync(paths.data, { recursive: true });
  const ownerFile = join(paths.lockDir, 'pid');
  const deadline = Date.now() + timeoutMs;
  let announced = false;
  for (;;) {
    try {
      mkdirSync(paths.lockDir);
      writeFileSync(ownerFile, String(process.pid));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number(readOr(ownerFile, '0'));
      if (holder > 0 && !isAlive(holder)) {
        rmSync(paths.lockDir, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`infra lock ${paths.lockDir} still held by pid ${holder} after ${timeoutMs} ms`);
      if (!announced && holder > 0) {
        log(`infra: waiting for pid ${holder}, which is starting or stopping the infrastructure...`);
        announced = true;
      }
      await pause(250);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(paths.lockDir, { recursive: true, force: true });
  }
}

function readOr(file: string, fallback: string): string {
  try {
    return readFileSync(file, 'utf8').trim() || fallback;
  } catch {
    return fallback;
  }
}

/** A jest run holds a lease while it uses infrastructure it did not start from the CLI. */
export function acquireLease(paths: InfraPaths, pid = process.pid): void {
  mkdirSync(paths.leasesDir, { recursive: true });
  writeFileSync(join(paths.leasesDir, String(pid)), new Date().toISOString());
}

export function releaseLease(paths: InfraPaths, pid = process.pid): void {
  rmSync(join(paths.leasesDir, String(pid)), { force: true });
}

/** Leases of other processes that are still running; stale ones are removed on the way. */
export function otherLiveLeases(paths: InfraPaths, self = process.pid): number[] {
  let entries: string[];
  try {
    entries = readdirSync(paths.leasesDir);
  } catch {
    return [];
  }
  const live: number[] = [];
  for (const entry of entries) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === self) continue;
    if (isAlive(pid)) live.push(pid);
    else rmSync(join(paths.leasesDir, entry), { force: true });
  }
  return live;
}
