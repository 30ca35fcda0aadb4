import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { infraPaths } from './infra.config';
import { runCommand } from './process.util';

/**
 * Prometheus's `promtool` from Debian's `prometheus` package, unpacked into the project's cache without
 * installing the package (nothing is started, nothing outside the checkout changes): `apt-get download` + `dpkg-deb
 * -x`. Its binaries are static Go builds, so none of the package's dependencies are needed.
 */
export async function ensurePromtool(log: (line: string) => void = () => undefined): Promise<string> {
  const dir = join(infraPaths().cache, 'prometheus');
  const promtool = join(dir, 'usr', 'bin', 'promtool');
  if (existsSync(promtool)) return promtool;
  mkdirSync(infraPaths().cache, { recursive: true });
  const work = mkdtempSync(join(infraPaths().cache, 'prometheus-download-'));
  try {
    log("promtool: fetching Debian's prometheus package (first run only)...");
    let download = await runCommand('apt-get', ['download', '-q', 'prometheus'], { cwd: work, timeoutMs: 5 * 60_000 });
    if (download.code !== 0 && process.getuid?.() === 0) {
      // A fresh machine has no package lists yet; queue behind other apt runs of the harness.
      await runCommand('flock', ['/tmp/grantline-apt.lock', 'apt-get', 'update', '-q'], { timeoutMs: 10 * 60_000 });
      download = await runCommand('apt-get', ['download', '-q', 'prometheus'], { cwd: work, timeoutMs: 5 * 60_000 });
    }
    const deb = readdirSync(work).find((name) => name.endsWith('.deb'));
    if (download.code !== 0 || deb === undefined) {
      const why = (download.stderr || download.stdout).trim().slice(0, 500);
      throw new Error(`missing prerequisite: promtool (Debian's prometheus package) to check the alert rules; apt-get download prometheus failed: ${why}`);
    }
    const unpacked = join(work, 'unpacked');
    const extract = await runCommand('dpkg-deb', ['-x', join(work, deb), unpacked], { timeoutMs: 2 * 60_000 });
    if (extract.code !== 0) throw new Error(`dpkg-deb -x ${deb} failed: ${extract.stderr.trim()}`);
    rmSync(dir, { recursive: true, force: true });
    renameSync(unpacked, dir);
    return promtool;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
