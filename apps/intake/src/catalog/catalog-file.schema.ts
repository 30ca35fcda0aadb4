import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { z } from 'zod';
import { LineCounter, parseDocument } from 'yaml';
import { AccessPackageSchema, CatalogPublishedDataSchema, CatalogSystemSchema, EntitlementSchema } from '@grantline/contracts';
import type { CatalogPublishedData } from '@grantline/contracts';

/** One `catalog/*.yaml` file: any of the three sections; `catalogVersion` may be set in one file. */
export const CatalogFileSchema = z.strictObject({
  catalogVersion: z.number().int().positive().optional(),
  systems: z.array(CatalogSystemSchema).default([]),
  entitlements: z.array(EntitlementSchema).default([]),
  accessPackages: z.array(AccessPackageSchema).default([]),
});
export type CatalogFile = z.infer<typeof CatalogFileSchema>;

export interface CatalogProblem {
  /** `entitlements.yaml:12:5` when the line is known. */
  readonly location: string;
  readonly path: string;
  readonly message: string;
}

export class CatalogError extends Error {
  constructor(readonly problems: readonly CatalogProblem[]) {
    super(`invalid catalogue:\n${problems.map((p) => `  ${p.location} ${p.path}: ${p.message}`).join('\n')}`);
    this.name = 'CatalogError';
  }
}

export interface CatalogSource {
  readonly name: string;
  readonly content: string;
}

/** sha256 over a canonical JSON (keys sorted at every level), so formatting and file order change nothing. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

const byId =
  <T>(id: (item: T) => string) =>
  (a: T, b: T): number =>
    id(a) < id(b) ? -1 : id(a) > id(b) ? 1 : 0;

/**
 * Parses and validates catalogue sources into the `iga.catalog.published` data. Pure (no I/O): every problem in
 * every file is reported at once, with its file and line, and dangling references across files are caught.
 */
export function parseCatalog(sources: readonly CatalogSource[]): CatalogPublishedData {
  const problems: CatalogProblem[] = [];
  const files: CatalogFile[] = [];
  for (const source of [...sources].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const lineCounter = new LineCounter();
    const document = parseDocument(source.content, { lineCounter, prettyErrors: false });
    if (document.errors.length > 0) {
      for (const error of document.errors) {
        const position = lineCounter.linePos(error.pos[0]);
        problems.push({ location: `${source.name}:${position.line}:${position.col}`, path: '(yaml)', message: error.message.split('\n')[0] ?? error.message });
      }
      continue;
    }
    const parsed = CatalogFileSchema.safeParse(document.toJS() ?? {});
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        const node = document.getIn(issue.path as (string | number)[], true) as { range?: [number, number, number] } | undefined;
        const offset = node?.range?.[0];
        const position = offset === undefined ? undefined : lineCounter.linePos(offset);
        problems.push({
          location: position === undefined ? source.name : `${source.name}:${position.line}:${position.col}`,
          path: issue.path.map(String).join('.') || '(file)',
          message: issue.message,
        });
      }
      continue;
    }
    files.push(parsed.data);
  }
  if (problems.length > 0) throw new CatalogError(problems);

  const versions = files.map((file) => file.catalogVersion).filter((v): v is number => v !== undefined);
  if (versions.length > 1) throw new CatalogError([{ location: '(catalog)', path: 'catalogVersion', message: 'set catalogVersion in one file only' }]);
  const content = {
    systems: files.flatMap((file) => file.systems).sort(byId((s) => s.systemId)),
    entitlements: files.flatMap((file) => file.entitlements).sort(byId((e) => e.entitlementId)),
    accessPackages: files.flatMap((file) => file.accessPackages).sort(byId((p) => p.accessPackageId)),
  };
  const problemsOfDuplicates = [
    ...duplicates(content.systems.map((s) => s.systemId)).map((id) => ({ location: '(catalog)', path: 'systems', message: `duplicate system id: ${id}` })),
    ...duplicates(content.accessPackages.map((p) => p.accessPackageId)).map((id) => ({ location: '(catalog)', path: 'accessPackages', message: `duplicate access package id: ${id}` })),
  ];
  if (problemsOfDuplicates.length > 0) throw new CatalogError(problemsOfDuplicates);
  const digest = createHash('sha256').update(canonicalJson(content)).digest('hex');
  const result = CatalogPublishedDataSchema.safeParse({ catalogVersion: versions[0] ?? 1, digest, ...content });
  if (!result.success) {
    throw new CatalogError(result.error.issues.map((issue) => ({ location: '(catalog)', path: describePath(issue.path, content), message: issue.message })));
  }
  return result.data;
}

function duplicates(ids: readonly string[]): string[] {
  const seen = new Set<string>();
  return [...new Set(ids.filter((id) => (seen.has(id) ? true : (seen.add(id), false))))];
}

/** `entitlements.3.systemId` → `entitlements[prod-db-write].systemId`: indexes into the merged list mean nothing to a reader. */
function describePath(path: readonly PropertyKey[], content: { entitlements: { entitlementId: string }[]; accessPackages: { accessPackageId: string }[] }): string {
  const [section, index, ...rest] = path;
  if (typeof index === 'number') {
    const id = section === 'entitlements' ? content.entitlements[index]?.entitlementId : section === 'accessPackages' ? content.accessPackages[index]?.accessPackageId : undefined;
    if (id !== undefined) return [`${String(section)}[${id}]`, ...rest.map(String)].join('.');
  }
  return path.map(String).join('.');
}

/** Reads every `*.yaml` / `*.yml` file of a directory (not recursive). */
export function readCatalogDirectory(dir: string): CatalogSource[] {
  const names = readdirSync(dir).filter((name) => /\.ya?ml$/.test(name));
  if (names.length === 0) throw new CatalogError([{ location: dir, path: '(dir)', message: 'no catalogue files (*.yaml)' }]);
  return names.sort().map((name) => ({ name: basename(name), content: readFileSync(join(dir, name), 'utf8') }));
}

export function loadCatalogDirectory(dir: string): CatalogPublishedData {
  return parseCatalog(readCatalogDirectory(dir));
}
