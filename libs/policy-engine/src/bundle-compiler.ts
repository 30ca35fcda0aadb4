// Pure: files in, compiled bundle (or file:line issues) out. No fs here; bundle-loader.ts reads folders.
import { createHash } from 'node:crypto';
import { CORE_SCHEMA, loadAll } from 'js-yaml';
import { LineCounter, parseAllDocuments } from 'yaml';
import type { Document } from 'yaml';
import type { z } from 'zod';
import { bundleDocumentSchema } from './bundle.schema';
import type { BundleDocument, BundleManifest, MatchSpec, RuleSpec } from './bundle.schema';
import type {
  Bundle,
  BundleFile,
  BundleIssue,
  CompiledMatch,
  CompiledRiskFactor,
  CompiledRule,
  CompiledToxicCombination,
  ReasonTemplate,
  SourceLocation,
} from './bundle.types';
import { CEL_VARIABLES, compileCondition } from './cel';
import type { CompileResult, CompiledCondition } from './cel';
import { EvaluationBudget } from './cel.limits';
import type { DraftLimits } from './cel.limits';
import { NHI_KINDS } from './input.schema';

export class BundleValidationError extends Error {
  constructor(readonly issues: readonly BundleIssue[]) {
    super(`invalid policy bundle:\n${issues.map(formatIssue).join('\n')}`);
    this.name = 'BundleValidationError';
  }
}

export const formatIssue = (i: BundleIssue): string => `${i.file}:${i.line}:${i.column}: ${i.message}`;

const isYaml = (path: string): boolean => /\.ya?ml$/i.test(path);

/** Canonical form: forward slashes, no BOM, LF line ends, no trailing blanks, one final newline. */
export const canonicalFiles = (files: readonly BundleFile[]): BundleFile[] =>
  files
    .filter((f) => isYaml(f.path))
    .map((f) => ({
      path: f.path.replace(/\\/g, '/').replace(/^\.\//, ''),
      // one regex pass per step instead of splitting into lines; `(?=\n|$)` without the m flag ends a
      // line exactly where split('\n') would (the m flag would also end one at U+2028/U+2029)
      content: `${f.content
        .replace(/^\uFEFF/, '')
        .replace(/\r\n?/g, '\n')
        .replace(/[ \t]+(?=\n|$)/g, '')
        .replace(/\n+$/, '')}\n`,
    }))
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));

const digestOfCanonical = (files: readonly BundleFile[]): string => {
  const h = createHash('sha256');
  for (const f of files) {
    h.update(`${f.path}\0${Buffer.byteLength(f.content)}\0`);
    h.update(f.content);
  }
  return `sha256:${h.digest('hex')}`;
};

/** SHA-256 over the canonical files; the same bundle content yields the same digest wherever it was read. */
export const bundleDigest = (files: readonly BundleFile[]): string => digestOfCanonical(canonicalFiles(files));

interface Position {
  readonly line: number;
  readonly column: number;
}

/** Where a path inside one YAML document is; only asked when something needs a line number. */
interface Locator {
  position(path: readonly PropertyKey[]): Position;
}

interface Located<T> {
  readonly value: T;
  readonly file: string;
  readonly at: Locator;
}

const positionOf = (doc: Document.Parsed, lines: LineCounter, path: readonly PropertyKey[]): Position => {
  // zod may point below what exists (a missing key): walk up to the deepest node that is there.
  for (let n = path.length; n >= 0; n--) {
    const node = doc.getIn(path.slice(0, n) as unknown[], true) as { range?: [number, number, number] } | undefined;
    if (node && typeof node === 'object' && node.range) {
      const { line, col } = lines.linePos(node.range[0]);
      return { line, column: col };
    }
  }
  return { line: 1, column: 1 };
};

const locatorOf = (doc: Document.Parsed, lines: LineCounter): Locator => ({ position: (path) => positionOf(doc, lines, path) });

const parseWithLines = (content: string): { docs: Document.Parsed[]; lines: LineCounter } => {
  const lines = new LineCounter();
  const parsed = parseAllDocuments(content, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  return { docs: Array.isArray(parsed) ? parsed : [], lines };
};

/**
 * The line-mapped parse (yaml's Document AST with a LineCounter): exact YAML errors, and zod issues
 * pinned to the node they are about. Used for files the fast path refuses, so a broken file is
 * reported exactly as before.
 */
const parseFileWithLines = (file: BundleFile, issues: BundleIssue[], docs: Located<BundleDocument>[]): void => {
  const { docs: parsed, lines } = parseWithLines(file.content);
  for (const doc of parsed) {
    if (doc.errors.length) {
      for (const err of doc.errors) {
        const pos = lines.linePos(err.pos[0]);
        issues.push({ file: file.path, line: pos.line, column: pos.col, message: `YAML: ${err.message.split('\n')[0]}` });
      }
      continue;
    }
    if (doc.contents === null) continue;
    const result = bundleDocumentSchema.safeParse(doc.toJS());
    if (!result.success) {
      for (const issue of result.error.issues) {
        const pos = positionOf(doc, lines, issue.path);
        issues.push({ file: file.path, line: pos.line, column: pos.column, message: describeZodIssue(issue) });
      }
      continue;
    }
    docs.push({ value: result.data, file: file.path, at: locatorOf(doc, lines) });
  }
};

/**
 * The fast path for valid files: js-yaml (YAML 1.2 core schema, like yaml's default) builds plain
 * values an order of magnitude faster than yaml's line-mapped AST. Line numbers are only needed for
 * rule locations and load errors, so the line-mapped parse runs lazily, at most once per file, when
 * one is first asked for. Returns null when the file needs the line-mapped path (any YAML error, an
 * empty or null document, a schema violation).
 */
const parseFileFast = (file: BundleFile): Located<BundleDocument>[] | null => {
  let values: unknown[];
  try {
    values = loadAll(file.content, null, { schema: CORE_SCHEMA });
  } catch {
    return null;
  }
  let mapped: { docs: Document.Parsed[]; lines: LineCounter } | null = null;
  const lazyLocator = (k: number): Locator => ({
    position: (path) => {
      // the same documents js-yaml saw: the non-empty, error-free ones, in order
      mapped ??= (() => {
        const { docs, lines } = parseWithLines(file.content);
        return { docs: docs.filter((d) => !d.errors.length && d.contents !== null), lines };
      })();
      const doc = mapped.docs[k];
      return doc ? positionOf(doc, mapped.lines, path) : { line: 1, column: 1 };
    },
  });
  const out: Located<BundleDocument>[] = [];
  for (let k = 0; k < values.length; k++) {
    const value = values[k];
    if (value === null || value === undefined) return null;
    const result = bundleDocumentSchema.safeParse(value);
    if (!result.success) return null;
    out.push({ value: result.data, file: file.path, at: lazyLocator(k) });
  }
  return out;
};

const describeZodIssue = (issue: z.core.$ZodIssue): string => {
  const where = issue.path.length ? `${issue.path.map(String).join('.')}: ` : '';
  return `${where}${issue.message}`;
};

const compileMatch = (m: MatchSpec | undefined): CompiledMatch | null => {
  if (!m) return null;
  const kinds = m.subjectKinds?.flatMap((k) => (k === 'nhi' ? [...NHI_KINDS] : [k]));
  const set = (xs: readonly string[] | undefined): ReadonlySet<string> | null => (xs ? new Set(xs) : null);
  return {
    subjectKinds: set(kinds),
    environments: set(m.environments),
    sensitivities: set(m.sensitivities),
    privileges: set(m.privileges),
    systems: set(m.systems),
    emergency: m.emergency ?? null,
  };
};

const PLACEHOLDER = /\{\{\s*([A-Za-z_][\w.]*)\s*\}\}/g;
const compileTemplate = (text: string): { template: ReasonTemplate; unknownRoot: string | null } => {
  const parts: (string | string[])[] = [];
  let last = 0;
  let unknownRoot: string | null = null;
  for (const m of text.matchAll(PLACEHOLDER)) {
    if (m.index > last) parts.push(text.slice(last, m.index));
    const path = (m[1] ?? '').split('.');
    if (!(CEL_VARIABLES as readonly string[]).includes(path[0] ?? '')) unknownRoot = path[0] ?? '';
    parts.push(path);
    last = m.index + m[0].length;
  }
  if (last < text.length) parts.push(text.slice(last));
  return { template: parts, unknownRoot };
};

export interface CompileBundleOptions {
  /**
   * Untrusted files (a draft sent to the policy service): what is over these limits is an issue naming the rule
   * and the limit, and the compiled bundle meters its evaluation (see cel.limits.ts). Absent for a shipped bundle.
   */
  readonly limits?: DraftLimits;
}

export const lintBundleFiles = (files: readonly BundleFile[], options: CompileBundleOptions = {}): readonly BundleIssue[] => compile(files, options).issues;

export const loadBundleFromFiles = (files: readonly BundleFile[], options: CompileBundleOptions = {}): Bundle => {
  const { bundle, issues } = compile(files, options);
  if (!bundle || issues.length) throw new BundleValidationError(issues);
  return bundle;
};

const compile = (input: readonly BundleFile[], { limits }: CompileBundleOptions): { bundle: Bundle | null; issues: BundleIssue[] } => {
  const files = canonicalFiles(input);
  const issues: BundleIssue[] = [];
  const docs: Located<BundleDocument>[] = [];

  for (const file of files) {
    const fast = parseFileFast(file);
    if (fast) docs.push(...fast);
    else parseFileWithLines(file, issues, docs);
  }

  const manifests = docs.filter((d): d is Located<BundleManifest> => d.value.kind === 'Bundle');
  if (manifests.length !== 1) {
    const at = manifests[1] ?? manifests[0];
    issues.push({
      file: at?.file ?? files[0]?.path ?? '(bundle)',
      line: at ? at.at.position(['kind']).line : 1,
      column: 1,
      message: `a bundle needs exactly one "kind: Bundle" document, found ${manifests.length}`,
    });
  }

  const rules: CompiledRule[] = [];
  const toxic: CompiledToxicCombination[] = [];
  const riskFactors: CompiledRiskFactor[] = [];
  let escalate: Bundle['escalate'] = null;
  // id -> where it was first defined; the line is only looked up when a duplicate needs it
  const seen = new Map<string, { d: Located<unknown>; path: readonly PropertyKey[] }>();
  // identical conditions (common in generated or templated bundles) are checked and parsed once
  const compiled = new Map<string, CompileResult>();
  // One budget for the whole draft: a decision's conditions share it, and evaluation restarts it per decision.
  const budget = limits === undefined ? undefined : new EvaluationBudget(limits.evaluation);
  const celOptions = limits === undefined ? {} : { limits: limits.cel, budget };

  /** `owner` names what the condition belongs to (`rule "x"`), so a refusal over a draft limit says where. */
  const condition = (d: Located<unknown>, path: readonly PropertyKey[], source: string | undefined, owner: string): CompiledCondition | null => {
    if (source === undefined) return null;
    let r = compiled.get(source);
    if (!r) {
      r =
        limits !== undefined && compiled.size >= limits.maxConditions
          ? { ok: false, error: `the bundle has more than ${limits.maxConditions} distinct conditions, the draft limit maxConditions`, limit: 'maxConditions' }
          : compileCondition(source, celOptions);
      compiled.set(source, r);
    }
    if (r.ok) return r.fn;
    const pos = d.at.position(path);
    issues.push({ file: d.file, line: pos.line, column: pos.column, message: `CEL: ${r.limit === undefined ? '' : `${owner}: `}${r.error}` });
    return null;
  };
  const unique = (d: Located<unknown>, path: readonly PropertyKey[], id: string): void => {
    const prior = seen.get(id);
    if (!prior) {
      seen.set(id, { d, path });
      return;
    }
    const pos = d.at.position(path);
    const where = `${prior.d.file}:${prior.d.at.position(prior.path).line}`;
    issues.push({ file: d.file, line: pos.line, column: pos.column, message: `duplicate id "${id}" (first defined at ${where})` });
  };
  // Rule locations are for people reading traces and errors, never for evaluation: resolve them on
  // first read so a valid bundle never pays for the line-mapped parse.
  const lazyLocation = (d: Located<unknown>, path: readonly PropertyKey[]): (() => SourceLocation) => {
    let location: SourceLocation | null = null;
    return () => (location ??= { file: d.file, line: d.at.position(path).line });
  };

  for (const d of docs) {
    const v = d.value;
    switch (v.kind) {
      case 'Bundle':
        break;
      case 'RuleSet':
        v.rules.forEach((r: RuleSpec, i) => {
          unique(d, ['rules', i, 'id'], r.id);
          const { template, unknownRoot } = compileTemplate(r.reason);
          if (unknownRoot !== null) {
            const pos = d.at.position(['rules', i, 'reason']);
            issues.push({
              file: d.file,
              line: pos.line,
              column: pos.column,
              message: `reason placeholder "{{${unknownRoot}...}}" must start with one of ${CEL_VARIABLES.join(', ')}`,
            });
          }
          const locate = lazyLocation(d, ['rules', i]);
          rules.push({
            id: r.id,
            description: r.description ?? null,
            mode: r.mode,
            effect: r.effect,
            reason: template,
            stages: r.stages ?? [],
            constraints: r.constraints ?? null,
            risk: r.risk ?? null,
            match: compileMatch(r.match),
            when: condition(d, ['rules', i, 'when'], r.when, `rule "${r.id}"`),
            whenSource: r.when ?? null,
            get location() {
              return locate();
            },
          });
        });
        break;
      case 'SodPolicy':
        v.toxicCombinations.forEach((c, i) => {
          unique(d, ['toxicCombinations', i, 'id'], c.id);
          const locate = lazyLocation(d, ['toxicCombinations', i]);
          toxic.push({
            id: c.id,
            description: c.description,
            mode: c.mode,
            effect: c.effect,
            stages: c.stages ?? [],
            sides: c.sides,
            get location() {
              return locate();
            },
          });
        });
        break;
      case 'RiskModel':
        v.factors.forEach((f, i) => {
          unique(d, ['factors', i, 'id'], f.id);
          riskFactors.push({
            id: f.id,
            description: f.description,
            weight: f.weight,
            match: compileMatch(f.match),
            when: condition(d, ['factors', i, 'when'], f.when, `risk factor "${f.id}"`),
          });
        });
        if (v.escalate) {
          if (escalate) {
            const pos = d.at.position(['escalate']);
            issues.push({ file: d.file, line: pos.line, column: pos.column, message: 'only one RiskModel may declare escalate' });
          }
          const { unless, ...rest } = v.escalate;
          escalate = { ...rest, unless: condition(d, ['escalate', 'unless'], unless, 'escalate.unless') };
        }
        break;
      default: {
        const unreachable: never = v;
        throw new Error(`unknown document ${String(unreachable)}`);
      }
    }
  }

  const manifest = manifests[0]?.value;
  if (!manifest || issues.length) return { bundle: null, issues };
  return {
    bundle: {
      name: manifest.name,
      version: manifest.version,
      digest: digestOfCanonical(files),
      settings: manifest.settings,
      rules,
      toxicCombinations: toxic,
      riskFactors,
      escalate,
      files,
      ...(budget === undefined ? {} : { budget }),
    },
    issues,
  };
};
