import type { Envelope } from '@grantline/contracts';
import type { MessagingLogger } from './logger';
import { StateLoader } from './state-loader';
import type { ClosableState, StateLoadBackoff } from './state-loader';
import type { MessageBus, PartitionEnd } from './ports';

/** Where an event sits in the log. */
export interface LogPosition {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
}

export interface ReplayedStateOptions {
  readonly bus: Pick<MessageBus, 'replay' | 'ensureTopics'> & Partial<Pick<MessageBus, 'endOffsets'>>;
  /** The topics the state is folded from (logical names). */
  readonly topics: () => readonly string[];
  /** Folds one event into the state. */
  readonly apply: (event: Envelope, position: LogPosition) => void;
  readonly logger: Pick<MessagingLogger, 'info' | 'warn'>;
  /** Names the state in log lines ("provisioning state rebuilt"), in readiness and in 503 problems. */
  readonly name: string;
  /** Extra fields for the "rebuilt" log line (sizes). */
  readonly describe?: () => Record<string, unknown>;
  /**
   * Create the topics when missing before replaying (default true). A topic whose writer never started cannot be
   * replayed, but it holds nothing: creating it turns "no such topic" into the empty history it is, so every
   * failure that remains is a real one.
   */
  readonly ensureTopics?: boolean;
  readonly backoff?: StateLoadBackoff;
}

/** What a state had started reading when an input arrived (`ReplayedState.freshnessMark`). */
export interface FreshnessMark {
  readonly endReads: number;
  readonly catchUps: number;
}

export interface ReplayReport {
  /** Events folded by the replay, over every attempt. */
  readonly events: number;
  /** Duration of the successful attempt. */
  readonly ms: number;
  readonly attempts: number;
}

/**
 * In-memory state a service rebuilds at every start by replaying its topics from the beginning, then keeps up to
 * date from its live consumer. A failed replay is retried (StateLoader) and the state stays not ready meanwhile:
 * never a start with part of the history missing. An attempt that failed part-way is resumed, not folded twice:
 * events at or below the offsets already folded are skipped. The live consumer may start before (or while) the
 * replay runs; an event the replay already folded (same topic/partition, offset not beyond the replay's) is not
 * folded twice.
 */
export class ReplayedState implements ClosableState {
  /** Highest offset the replay folded per topic/partition. */
  private readonly replayed = new Map<string, bigint>();
  /** Highest offset folded per topic/partition after the load: by the live consumer or a freshness catch-up. */
  private readonly since = new Map<string, bigint>();
  /** Per partition, an end a freshness catch-up read up to: everything below it is folded, transaction markers too. */
  private readonly readUpTo = new Map<string, bigint>();
  private readonly endReads = new SharedRead<readonly PartitionEnd[]>();
  private readonly catchUps = new SharedRead<void>();
  private folded = 0;
  private readonly loader: StateLoader<ReplayReport>;

  constructor(private readonly options: ReplayedStateOptions) {
    this.loader = new StateLoader({
      name: options.name,
      load: (attempt) => this.replayOnce(attempt),
      logger: options.logger,
      ...(options.backoff ? { backoff: options.backoff } : {}),
    });
  }

  get name(): string {
    return this.loader.name;
  }

  isReady(): boolean {
    return this.loader.isReady();
  }

  get lastError(): string | undefined {
    return this.loader.lastError;
  }

  get attempts(): number {
    return this.loader.attempts;
  }

  /** The successful replay; undefined until then. */
  get report(): ReplayReport | undefined {
    return this.loader.current;
  }

  start(): void {
    this.loader.start();
  }

  /** Starts the replay once; every caller waits for the same one, until it succeeds (see StateLoader). */
  whenLoaded(): Promise<ReplayReport> {
    return this.loader.whenLoaded();
  }

  whenAttempted(): Promise<void> {
    return this.loader.whenAttempted();
  }

  close(): Promise<void> {
    return this.loader.close();
  }

  /** Folds a live event unless the start-up replay (or a freshness catch-up) already did. */
  applyLive(event: Envelope, position: LogPosition): void {
    const key = `${position.topic}/${position.partition}`;
    const offset = BigInt(position.offset);
    const seen = this.replayed.get(key);
    if (seen !== undefined && offset <= seen) return;
    if (this.caughtUp.has(key) && offset <= (this.since.get(key) ?? -1n)) return;
    this.options.apply(event, position);
    if (offset > (this.since.get(key) ?? -1n)) this.since.set(key, offset);
  }

  /** Partitions a freshness catch-up folded (the live consumer may deliver their records again: skipped). */
  private readonly caughtUp = new Set<string>();

  /** Taken when an input is received, before `ensureFresh`: the reads that start later cover it. */
  freshnessMark(): FreshnessMark {
    return { endReads: this.endReads.started, catchUps: this.catchUps.started };
  }

  /**
   * Resolves once every record published on `topics` before the mark was taken is folded. Kafka orders records only
   * within a partition, so an input can arrive before a fact published ahead of it on another topic (a manager
   * changed, a subject suspended, an on-call flag set a moment before the request): the state already knows the
   * identity, but an older record of it. At once when the live consumer has delivered everything up to the ends
   * read after the mark; otherwise those topics are read once more, folding only what is new. Concurrent callers
   * share both reads. A failure is the caller's (retriable): never an answer on a state known to be behind.
   */
  async ensureFresh(mark: FreshnessMark, topics: readonly string[]): Promise<void> {
    const endOffsets = this.options.bus.endOffsets?.bind(this.options.bus);
    if (endOffsets === undefined) throw new Error(`${this.name}: this bus cannot tell where its topics end, so freshness cannot be checked`);
    await this.whenLoaded();
    const ends = await this.endReads.after(mark.endReads, () => endOffsets(topics));
    if (this.behind(ends).length === 0) return;
    await this.catchUps.after(mark.catchUps, async () => {
      const upTo = await endOffsets(topics);
      // From what is folded on: only records not folded yet are read.
      const from: Record<string, Record<number, string>> = {};
      for (const { topic, partition } of upTo) (from[topic] ??= {})[partition] = this.foldedTo(`${topic}/${partition}`).toString();
      await this.options.bus.replay({
        topics,
        from,
        handler: async (event, position) => {
          const key = `${position.topic}/${position.partition}`;
          const offset = BigInt(position.offset);
          if (offset < this.foldedTo(key)) return;
          this.options.apply(event, position);
          this.since.set(key, offset);
          this.caughtUp.add(key);
        },
        onInvalid: (error, origin) =>
          this.options.logger.warn(`skipping an undecodable record while catching up ${this.name}`, { ...origin, error: String(error) }),
      });
      for (const { topic, partition, end } of upTo) {
        const key = `${topic}/${partition}`;
        if (BigInt(end) > (this.readUpTo.get(key) ?? 0n)) this.readUpTo.set(key, BigInt(end));
      }
    });
  }

  /** The partitions whose end lies beyond what is folded. */
  behind(ends: readonly PartitionEnd[]): PartitionEnd[] {
    return ends.filter(({ topic, partition, end }) => this.foldedTo(`${topic}/${partition}`) < BigInt(end));
  }

  /** The first offset of a partition not known to be folded. */
  private foldedTo(key: string): bigint {
    const candidates = [(this.replayed.get(key) ?? -1n) + 1n, (this.since.get(key) ?? -1n) + 1n, this.readUpTo.get(key) ?? 0n];
    return candidates.reduce((a, b) => (a > b ? a : b));
  }

  private async replayOnce(attempt: number): Promise<ReplayReport> {
    const { bus, logger, name } = this.options;
    const started = Date.now();
    const topics = [...new Set(this.options.topics())];
    if (this.options.ensureTopics !== false) await bus.ensureTopics(topics.map((topic) => ({ topic })));
    const onInvalid = (error: unknown, origin: LogPosition): void =>
      logger.warn(`skipping an undecodable record while rebuilding ${name}`, { ...origin, error: String(error) });
    const handler = async (event: Envelope, position: LogPosition): Promise<void> => {
      const key = `${position.topic}/${position.partition}`;
      const offset = BigInt(position.offset);
      const seen = this.replayed.get(key);
      // Folded by an earlier attempt that failed further on.
      if (seen !== undefined && offset <= seen) return;
      this.options.apply(event, position);
      this.replayed.set(key, offset);
      this.folded += 1;
    };
    await bus.replay({ topics, handler, onInvalid });
    const report: ReplayReport = { events: this.folded, ms: Date.now() - started, attempts: attempt };
    logger.info(`${name} rebuilt`, { ...report, ...this.options.describe?.() });
    return report;
  }
}

/**
 * One read shared by concurrent callers: a caller takes a mark (`started`) when its input arrives, and is served by
 * the first read that started after it; a read in flight that started earlier is waited out, then a new one starts.
 */
class SharedRead<T> {
  started = 0;
  private running: { readonly number: number; readonly result: Promise<T> } | undefined;

  async after(mark: number, read: () => Promise<T>): Promise<T> {
    for (;;) {
      const running = this.running;
      if (running !== undefined && running.number > mark) return running.result;
      if (running !== undefined) {
        await running.result.catch(() => undefined);
        continue;
      }
      const number = ++this.started;
      const result = read().finally(() => {
        if (this.running?.number === number) this.running = undefined;
      });
      this.running = { number, result };
    }
  }
}
