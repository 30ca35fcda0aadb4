// The only module of the engine that touches the filesystem: it reads a bundle folder into
// {path, content} pairs (paths relative to the folder) for the pure loadBundleFromFiles.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { loadBundleFromFiles } from './bundle-compiler';
import type { Bundle, BundleFile } from './bundle.types';

export const readBundleDirectory = (dir: string): BundleFile[] => {
  const out: BundleFile[] = [];
  const walk = (d: string): void => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const full = join(d, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (/\.ya?ml$/i.test(entry.name)) {
        out.push({ path: relative(dir, full).split(sep).join('/'), content: readFileSync(full, 'utf8') });
      }
    }
  };
  walk(dir);
  return out;
};

export const loadBundleFromDirectory = (dir: string): Bundle => loadBundleFromFiles(readBundleDirectory(dir));
