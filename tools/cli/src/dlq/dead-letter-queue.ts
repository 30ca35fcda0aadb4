import { MessagingDeadLetterRepublished, TOPICS, fromCloudEvent } from '@grantline/contracts';
import type { DeadLetterIssue, Envelope, EventRegistry } from '@grantline/contracts';
import { deadLetterIssues, describeError, deterministicEventId, digestOf, safeReason } from '@grantline/messaging';
import type { EventPublisher, LogRecord, MessageBus } from '@grantline/messaging';
import { redactRecord } from '../redact';
import { foldDeadLetters, originKey, selectDeadLetters } from './dead-letter-log';
import type { DeadLetterEntry, DeadLetterLog, DeadLetterTopicRecord, ListFilter } from './dead-letter-log';

/** What the CLI needs of the bus: read topics, read records back by reference, publish. */
export interface DlqBus {
  readonly publisher: EventPublisher;
  replay: MessageBus['replay'];
  readRecords?: MessageBus['readRecords'];
  /** Logical names of the topics that exist (a dead-letter topic nobody wrote to yet may not). */
  listTopics?(): Promise<string[]>;
}

export interface DeadLetterQueueOptions {
  /** The registry of this release: what the originals are re-validated against, and the encoder of re-drive records. */
  readonly registry: EventRegistry;
  /** Where dead letters are; the catalogue's dead-letter topic by default. */
  readonly deadLetterTopics?: readonly string[];
  /** Who re-drives (the actor of the re-drive record). */
  readonly operator: string;
  readonly now?: () => Date;
}

/** The original record read back by reference, judged by this release's registry. */
export type Assessment =
  | { readonly state: 'unreadable'; readonly why: string }
  | { readonly state: 'refused'; readonly why: string; readonly issues: readonly DeadLetterIssue[]; readonly record: LogRecord; readonly shown?: unknown }
  | { readonly state: 'valid'; readonly record: LogRecord; readonly raw: Record<string, unknown>; readonly event: Envelope; readonly shown: unknown };

export interface ShownDeadLetter {
  readonly entry: DeadLetterEntry;
  readonly original: Assessment;
}

export type RedriveStatus = 'republished' | 'would-republish' | 'refused' | 'already-republished' | 'unknown';
export interface RedriveOutcome {
  readonly id: string;
  readonly status: RedriveStatus;
  readonly message: string;
  readonly origin?: string;
}

export interface RedriveOptions {
  readonly dryRun?: boolean;
  /** Called as each origin is done (for a progress bar). */
  readonly onProgress?: (done: number, total: number) => void;
}

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

/**
 * `grantline dlq` without the terminal: reads the dead-letter topics, shows a dead letter with its original read back
 * by reference, and re-drives originals that this release can read. Everything an operator sees of an original is
 * redacted; nothing of it is written anywhere but back to its own topic, unchanged.
 */
export class DeadLetterQueue {
  private readonly topics: readonly string[];
  private readonly now: () => Date;

  constructor(
    private readonly bus: DlqBus,
    private readonly options: DeadLetterQueueOptions,
  ) {
    this.topics = options.deadLetterTopics ?? [TOPICS.deadLetter];
    this.now = options.now ?? (() => new Date());
  }

  /** Every dead letter and re-drive on the dead-letter topics, folded. */
  async read(): Promise<DeadLetterLog> {
    const existing = this.bus.listTopics === undefined ? undefined : new Set(await this.bus.listTopics());
    const topics = this.topics.filter((topic) => existing === undefined || existing.has(topic));
    if (topics.length === 0) return { entries: [], unreadable: 0 };
    const records: DeadLetterTopicRecord[] = [];
    let unreadable = 0;
    await this.bus.replay({
      topics,
      handler: async (event, context) => void records.push({ topic: context.topic, event }),
      onInvalid: () => void (unreadable += 1),
    });
    return foldDeadLetters(records, unreadable);
  }

  /** The dead letters not re-driven yet (with `includeRepublished`, all), oldest first. */
  async list(filter: ListFilter = {}): Promise<{ entries: DeadLetterEntry[]; unreadable: number }> {
    const log = await this.read();
    return { entries: selectDeadLetters(log, filter), unreadable: log.unreadable };
  }

  /** One dead letter with its original, read back by reference; undefined for an id not on the dead-letter topics. */
  async show(id: string): Promise<ShownDeadLetter | undefined> {
    const entry = (await this.read()).entries.find((candidate) => candidate.id === id);
    if (entry === undefined) return undefined;
    const [original] = await this.originals([entry]);
    return { entry, original: original ?? { state: 'unreadable', why: 'not read' } };
  }

  /**
   * Publishes each selected dead letter's original again, to its own topic, unchanged (same event id: consumers that
   * have it already drop it), once this release validates it; then records the re-drive on the dead-letter topic, so
   * no dead letter of that origin is re-driven twice or listed again. Refuses what still does not validate.
   */
  async redrive(selection: { readonly ids?: readonly string[]; readonly all?: boolean }, options: RedriveOptions = {}): Promise<RedriveOutcome[]> {
    const log = await this.read();
    const outcomes: RedriveOutcome[] = [];
    const chosen: DeadLetterEntry[] = [];
    if (selection.all === true) chosen.push(...selectDeadLetters(log));
    for (const id of selection.ids ?? []) {
      const entry = log.entries.find((candidate) => candidate.id === id);
      if (entry === undefined) outcomes.push({ id, status: 'unknown', message: 'no such dead letter on the dead-letter topics' });
      else if (entry.republished !== undefined) {
        outcomes.push({
          id,
          status: 'already-republished',
          origin: originKey(entry.data.origin),
          message: `already re-driven at ${entry.republished.at} by ${entry.republished.by}`,
        });
      } else if (!chosen.includes(entry)) chosen.push(entry);
    }
    // One original per origin, however many groups refused it; every unsettled dead letter of it is settled together.
    const byOrigin = new Map<string, DeadLetterEntry[]>();
    for (const entry of chosen) byOrigin.set(originKey(entry.data.origin), [...(byOrigin.get(originKey(entry.data.origin)) ?? []), entry]);
    const groups = [...byOrigin.values()];
    const assessments = await this.originals(groups.map((group) => group[0] as DeadLetterEntry));
    let done = 0;
    options.onProgress?.(done, groups.length);
    for (const [index, group] of groups.entries()) {
      const siblings = log.entries.filter(
        (entry) => entry.republished === undefined && originKey(entry.data.origin) === originKey((group[0] as DeadLetterEntry).data.origin),
      );
      outcomes.push(...(await this.redriveOne(group, siblings, assessments[index] as Assessment, options.dryRun === true)));
      done += 1;
      options.onProgress?.(done, groups.length);
    }
    return outcomes;
  }

  private async redriveOne(
    chosen: readonly DeadLetterEntry[],
    siblings: readonly DeadLetterEntry[],
    original: Assessment,
    dryRun: boolean,
  ): Promise<RedriveOutcome[]> {
    const first = chosen[0] as DeadLetterEntry;
    const origin = originKey(first.data.origin);
    const each = (status: RedriveStatus, message: string): RedriveOutcome[] => chosen.map((entry) => ({ id: entry.id, status, origin, message }));
    // The reason names every bad field already (a contract violation's message lists them).
    if (original.state !== 'valid') return each('refused', `not re-driven: ${original.why}`);
    const { event, raw } = original;
    const what = `${event.type} ${event.id} to ${first.data.origin.topic}`;
    if (dryRun) return each('would-republish', `would republish ${what}`);
    // The original as it was written (not upcast), so what consumers read again is what they would have read then;
    // the raw value is the CloudEvent on the wire, which the publisher writes from an envelope (ADR 0027).
    await this.bus.publisher.publish(first.data.origin.topic, [fromCloudEvent(raw) as Envelope]);
    const record = this.republishedRecord(first, siblings, raw, original.record);
    await this.bus.publisher.publish(first.deadLetterTopic, [record]);
    return each('republished', `republished ${what}`);
  }

  private republishedRecord(first: DeadLetterEntry, siblings: readonly DeadLetterEntry[], raw: Record<string, unknown>, record: LogRecord): Envelope {
    const { origin } = first.data;
    const where = `${origin.topic}/${origin.partition}/${origin.offset}`;
    const now = this.now().toISOString();
    const ids = [...new Set([first.id, ...siblings.map((entry) => entry.id)])];
    return this.options.registry.encode(
      MessagingDeadLetterRepublished,
      {
        deadLetterIds: ids,
        origin,
        event: { id: String(raw['id']), type: String(raw['type']) },
        originalSha256: digestOf(record.value),
        republishedAt: now,
      },
      {
        id: deterministicEventId('dead-letter-republished', origin.topic, String(origin.partition), origin.offset),
        source: 'grantline/cli',
        time: now,
        subject: origin.key || where,
        correlationid: typeof raw['correlationid'] === 'string' && raw['correlationid'] !== '' ? raw['correlationid'] : where,
        causationid: first.id,
        actor: { kind: 'user', id: this.options.operator },
      },
    );
  }

  /** The originals of these dead letters, read back by reference in one pass, each judged by this release. */
  private async originals(entries: readonly DeadLetterEntry[]): Promise<Assessment[]> {
    if (entries.length === 0) return [];
    const read = this.bus.readRecords?.bind(this.bus);
    if (read === undefined) return entries.map(() => ({ state: 'unreadable', why: 'this transport cannot read records back by reference' }));
    const records = await read(entries.map((entry) => entry.data.origin));
    return entries.map((entry, index) => this.assess(entry, records[index]));
  }

  /** Is this the record that was refused, and does this release read it now? */
  assess(entry: DeadLetterEntry, record: LogRecord | undefined): Assessment {
    if (record === undefined) return { state: 'unreadable', why: 'the original record is no longer on the log (retention or compaction)' };
    if (digestOf(record.value) !== entry.data.original.sha256) {
      return { state: 'unreadable', why: 'the record at that offset is not the one dead-lettered (its SHA-256 differs)' };
    }
    let raw: unknown;
    try {
      raw = JSON.parse(record.value?.toString('utf8') ?? '');
    } catch {
      return { state: 'refused', why: 'still not JSON', issues: [], record };
    }
    const refusedPaths = entry.data.issues.map((issue) => issue.path);
    try {
      const event = this.options.registry.decode(raw);
      if (!isObject(raw)) throw new Error('not an object');
      return { state: 'valid', record, raw, event, shown: redactRecord(raw, refusedPaths) };
    } catch (error) {
      const issues = deadLetterIssues(error, raw);
      return {
        state: 'refused',
        why: `does not validate with this release: ${safeReason(describeError(error), raw)}`,
        issues,
        record,
        shown: redactRecord(raw, [...refusedPaths, ...issues.map((issue) => issue.path)]),
      };
    }
  }
}
