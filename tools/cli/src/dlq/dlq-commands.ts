import type { Output } from '../output';
import type { Progress } from '../progress';
import type { DeadLetterQueue } from './dead-letter-queue';
import { formatList, formatRedrive, formatShow, listJson, showJson } from './format';

/** Exit codes: 0 done, 1 something was refused or not found, 2 the command line is wrong. */
export const EXIT = { ok: 0, refused: 1, usage: 2 } as const;

export interface ListOptions {
  readonly topic?: string;
  readonly since?: string;
  readonly json?: boolean;
}

/** `dlq list`: one line per dead letter not re-driven yet. */
export async function dlqList(queue: DeadLetterQueue, options: ListOptions, io: Output): Promise<number> {
  let since: Date | undefined;
  if (options.since !== undefined) {
    since = new Date(options.since);
    if (Number.isNaN(since.getTime())) {
      io.err(`--since: not an ISO-8601 date or time: ${options.since}\n`);
      return EXIT.usage;
    }
  }
  const { entries, unreadable } = await queue.list({
    ...(options.topic === undefined ? {} : { originTopic: options.topic }),
    ...(since === undefined ? {} : { since }),
  });
  io.out(options.json === true ? listJson(entries) : formatList(entries, unreadable));
  return EXIT.ok;
}

/** `dlq show <id>`: the reference, the reason, and the original read back by reference (redacted). */
export async function dlqShow(queue: DeadLetterQueue, id: string, options: { readonly json?: boolean }, io: Output): Promise<number> {
  const shown = await queue.show(id);
  if (shown === undefined) {
    io.err(`no dead letter ${id} on the dead-letter topics\n`);
    return EXIT.refused;
  }
  io.out(options.json === true ? showJson(shown) : formatShow(shown));
  return EXIT.ok;
}

export interface RedriveCommandOptions {
  readonly all?: boolean;
  readonly dryRun?: boolean;
}

/** Why `dlq redrive` cannot run with these arguments (checked before connecting), or undefined. */
export function redriveUsageError(ids: readonly string[], options: RedriveCommandOptions): string | undefined {
  return (ids.length === 0) === (options.all !== true) ? 'give the dead-letter ids to re-drive, or --all (not both)' : undefined;
}

/** `dlq redrive <id…> | --all [--dry-run]`: exit 1 when any was refused or unknown. */
export async function dlqRedrive(
  queue: DeadLetterQueue,
  ids: readonly string[],
  options: RedriveCommandOptions,
  io: Output,
  progress?: Progress,
): Promise<number> {
  const usage = redriveUsageError(ids, options);
  if (usage !== undefined) {
    io.err(`${usage}\n`);
    return EXIT.usage;
  }
  const dryRun = options.dryRun === true;
  let outcomes;
  try {
    outcomes = await queue.redrive(
      { ids, all: options.all === true },
      { dryRun, ...(progress === undefined ? {} : { onProgress: (done, total) => progress.update(done, total) }) },
    );
  } finally {
    progress?.stop();
  }
  io.out(formatRedrive(outcomes, dryRun));
  return outcomes.some((outcome) => outcome.status === 'refused' || outcome.status === 'unknown') ? EXIT.refused : EXIT.ok;
}
