import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isoDurationToMillis, registry } from '@grantline/contracts';
import { BUNDLE_FILES } from '@grantline/transparency';
import { EVIDENCE_TOPICS, EvidenceLog, EvidenceQuerySchema, buildEvidencePack, renderEvidenceMarkdown } from '@grantline/evidence';
import type { EvidenceParameters, EvidenceQuery } from '@grantline/evidence';
import type { MessageBus } from '@grantline/messaging';
import { EXIT } from '../dlq/dlq-commands';
import { forEachLine, readManifest } from '../evidence-bundle/bundle-files';
import type { Output } from '../output';
import type { Progress } from '../progress';

export interface EvidenceOptions {
  readonly from?: string;
  readonly to?: string;
  readonly format?: string;
  readonly out?: string;
  readonly removalTolerance?: string;
  readonly standingAfter?: string;
  readonly credentialMaxLifetime?: string;
}

/** What the command needs besides the bus: where it reads time, where it writes a file (specs pass their own). */
export interface EvidenceEnvironment {
  readonly now: () => Date;
  readonly writeFile: (path: string, text: string) => void;
  /** Names the log in the pack: `Kafka 127.0.0.1:19092, namespace local`. */
  readonly source: string;
}

export const defaultEvidenceEnvironment = (source: string): EvidenceEnvironment => ({
  now: () => new Date(),
  writeFile: (path, text) => writeFileSync(path, text, 'utf8'),
  source,
});

/** The flags, checked before anything is read: a wrong one is named as the HTTP route names it. */
export function evidenceUsageError(options: EvidenceOptions): string | undefined {
  const parsed = EvidenceQuerySchema.safeParse({
    ...(options.from === undefined ? {} : { from: options.from }),
    ...(options.to === undefined ? {} : { to: options.to }),
    ...(options.format === undefined ? {} : { format: options.format }),
  });
  const problems = parsed.success ? [] : parsed.error.issues.map((issue) => `--${issue.path.join('.') || 'from/--to'}: ${issue.message}`);
  const durations: [string, string | undefined][] = [
    ['--removal-tolerance', options.removalTolerance],
    ['--standing-after', options.standingAfter],
    ['--credential-max-lifetime', options.credentialMaxLifetime],
  ];
  for (const [flag, value] of durations) {
    if (value !== undefined && isoDurationToMillis(value) === undefined)
      problems.push(`${flag}: expected an ISO-8601 duration such as PT15M or P7D (got ${value})`);
  }
  return problems.length === 0 ? undefined : problems.join('\n');
}

/** The period and thresholds of a command line evidenceUsageError accepted. */
function queryOf(options: EvidenceOptions): { query: EvidenceQuery; parameters: Partial<EvidenceParameters> } {
  const query = EvidenceQuerySchema.parse({ from: options.from, to: options.to, ...(options.format === undefined ? {} : { format: options.format }) });
  const parameters: Partial<EvidenceParameters> = {
    ...(options.removalTolerance === undefined ? {} : { removalTolerance: options.removalTolerance }),
    ...(options.standingAfter === undefined ? {} : { standingPrivilegeAfter: options.standingAfter }),
    ...(options.credentialMaxLifetime === undefined ? {} : { credentialMaxLifetime: options.credentialMaxLifetime }),
  };
  return { query, parameters };
}

/** Builds the pack from the folded log and writes it (stdout or --out), with a one-line summary on stderr. */
function writePack(log: EvidenceLog, options: EvidenceOptions, io: Output, env: EvidenceEnvironment, undecodable: number): number {
  const { query, parameters } = queryOf(options);
  const pack = buildEvidencePack(log, { period: { from: query.from, to: query.to }, now: env.now(), parameters, source: env.source, topics: EVIDENCE_TOPICS });
  const text = query.format === 'md' ? renderEvidenceMarkdown(pack) : `${JSON.stringify(pack, null, 2)}\n`;
  if (options.out === undefined) io.out(text);
  else env.writeFile(options.out, text);
  const { satisfied, findings, notObservable } = pack.summary;
  io.err(
    `evidence ${query.from} – ${query.to}: ${log.events} events read${undecodable === 0 ? '' : ` (${undecodable} undecodable records skipped)`}; ${satisfied} controls satisfied, ${findings} with findings, ${notObservable} not observable${options.out === undefined ? '' : `; written to ${options.out}`}\n`,
  );
  return EXIT.ok;
}

/**
 * `grantline evidence --from --to [--format md|json] [--out file]`: folds every event of the lifecycle topics from
 * the beginning (facts before the period matter) and writes the pack of the period. Exit 0 written, 2 wrong usage.
 */
export async function evidenceCommand(bus: MessageBus, options: EvidenceOptions, io: Output, env: EvidenceEnvironment, progress?: Progress): Promise<number> {
  const usage = evidenceUsageError(options);
  if (usage !== undefined) {
    io.err(`${usage}\n`);
    return EXIT.usage;
  }
  const ends = await bus.endOffsets(EVIDENCE_TOPICS);
  const total = ends.reduce((sum, end) => sum + Number(end.end), 0);
  const log = new EvidenceLog();
  let read = 0;
  let undecodable = 0;
  progress?.update(0, total);
  try {
    await bus.replayBatches({
      // A topic that does not exist (no service wrote it yet) holds nothing.
      topics: [...new Set(ends.map((end) => end.topic))],
      batchHandler: async (events, { topic, partition, offsets }) => {
        events.forEach((event, index) => log.add({ event, position: { topic, partition, offset: offsets[index]! } }));
        read += events.length;
        progress?.update(Math.min(read + undecodable, total), total);
      },
      onInvalid: () => void (undecodable += 1),
    });
  } finally {
    progress?.stop();
  }
  return writePack(log, options, io, env, undecodable);
}

/**
 * `grantline evidence --bundle <dir> --from --to`: the same pack from an evidence bundle (`grantline export`) instead
 * of the broker, for an auditor working offline. Only the bundle's records are folded: when a tree of the bundle does
 * not start at the beginning of its partition, facts before it (a grant created earlier) are missing, and the command
 * says so. Whether the bundle is intact is `grantline verify`'s question, not this one's.
 */
export function evidenceFromBundle(dir: string, options: EvidenceOptions, io: Output, env: Omit<EvidenceEnvironment, 'source'>, progress?: Progress): number {
  const usage = evidenceUsageError(options);
  if (usage !== undefined) {
    io.err(`${usage}\n`);
    return EXIT.usage;
  }
  let manifest: ReturnType<typeof readManifest>;
  try {
    manifest = readManifest(dir);
  } catch (error) {
    io.err(`--bundle: ${(error as Error).message}\n`);
    return EXIT.refused;
  }
  const wanted = new Set(EVIDENCE_TOPICS);
  const partial = manifest.trees.filter((tree) => wanted.has(tree.topic) && tree.firstIndex > 0 && tree.lines > 0);
  const log = new EvidenceLog();
  let undecodable = 0;
  try {
    forEachLine(
      join(dir, BUNDLE_FILES.events),
      (line) => {
        if (line.trim() === '') return;
        try {
          const record = JSON.parse(line) as { topic?: unknown; partition?: unknown; offset?: unknown; event?: unknown };
          if (typeof record.topic !== 'string' || !wanted.has(record.topic)) return;
          if (typeof record.partition !== 'number' || typeof record.offset !== 'string') throw new Error('no partition or offset');
          log.add({ event: registry.decode(record.event), position: { topic: record.topic, partition: record.partition, offset: record.offset } });
        } catch {
          // Not JSON, not a CloudEvent this release reads: counted and said, as a replay does.
          undecodable += 1;
        }
      },
      (bytes, total) => progress?.update(bytes, total),
    );
  } finally {
    progress?.stop();
  }
  if (partial.length > 0) {
    io.err(
      `--bundle: ${partial.map((tree) => `${tree.topic}/${tree.partition}`).join(', ')} start after the beginning of the log (the bundle's period): facts before it are not in the bundle, and the pack may miss them\n`,
    );
  }
  const source = `bundle ${dir} (log ${manifest.clusterId}${manifest.namespace === null ? '' : `, namespace ${manifest.namespace}`}; ${partial.length === 0 ? 'every tree from its first record' : `${partial.length} trees start after the beginning of the log`})`;
  return writePack(log, options, io, { ...env, source }, undecodable);
}
