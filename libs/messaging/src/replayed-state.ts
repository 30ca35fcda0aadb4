import type { Envelope } from '@grantline/contracts';
import type { MessagingLogger } from './logger';
import { StateLoader } from './state-loader';
import type { ClosableState, StateLoadBackoff } from './state-loader';
import type { LogIdentity, MessageBus, PartitionEnd } from './ports';
import { SnapshotUnusableError, collectFrames, packSnapshot, recordsBeyond, snapshotManifest, snapshotMismatch, unpackSnapshot } from './state-snapshot';
import type { LogPosition, SnapshotManifest, SnapshotPositions, SnapshotStore, StateSnapshotCodec } from './state-snapshot';

export type { LogPosition } from './state-snapshot';

/**
 * Snapshots of a replayed state (issue 12, item 5; ADR 0037): the state starts from the newest usable snapshot plus
 * the log after it, instead of the whole log. A missing, corrupt or mismatched snapshot falls back to the full
 * replay: a snapshot only ever saves time.
 */
export interface ReplayedStateSnapshots<S = unknown> {
  readonly store: SnapshotStore;
  readonly codec: StateSnapshotCodec<S>;
  /** The state `apply` folds into: the snapshot is restored into it, and it is encoded right after a long replay. */
  readonly live: S;
  /** A snapshot is written once at least this many events lie beyond the newest one (default 100,000). */
  readonly minEvents?: number;
  /**
   * How often a running service checks whether one is due (default 5 minutes; 0: only right after the start-up
   * replay). A running state is not encoded (a service may fold its own outputs ahead of the log): the compactor
   * folds the newest snapshot and the log after it into a state of its own, beside the live one.
   */
  readonly compactEveryMs?: number;
}

export const DEFAULT_SNAPSHOT_MIN_EVENTS = 100_000;
export const DEFAULT_SNAPSHOT_COMPACT_EVERY_MS = 5 * 60_000;

export interface ReplayedStateOptions<S = unknown> {
  readonly bus: Pick<MessageBus, 'replay' | 'ensureTopics'> & Partial<Pick<MessageBus, 'endOffsets' | 'logIdentity'>>;
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
  readonly snapshots?: ReplayedStateSnapshots<S>;
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
  /** The snapshot the state started from (its id and the events it held), when one was usable. */
  readonly snapshot?: { readonly id: string; readonly events: number; readonly restoreMs: number };
  /** Why no snapshot was used, when snapshots are on and none was. */
  readonly snapshotSkipped?: string;
}

/**
 * In-memory state a service rebuilds at every start by replaying its topics from the beginning, then keeps up to
 * date from its live consumer. A failed replay is retried (StateLoader) and the state stays not ready meanwhile:
 * never a start with part of the history missing. An attempt that failed part-way is resumed, not folded twice:
 * events at or below the offsets already folded are skipped. The live consumer may start before (or while) the
 * replay runs; an event the replay already folded (same topic/partition, offset not beyond the replay's) is not
 * folded twice.
 */
export class ReplayedState<S = unknown> implements ClosableState {
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
  /** Snapshots: whether the start-up restore was tried, what it restored, the writes and the compaction timer. */
  private restoreTried = false;
  private restored: { readonly manifest: SnapshotManifest; readonly ms: number } | undefined;
  private snapshotSkipped: string | undefined;
  private snapshotWrite: Promise<void> | undefined;
  private compaction: Promise<void> | undefined;
  private compactTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private snapshots: ReplayedStateSnapshots<S> | undefined;

  constructor(private readonly options: ReplayedStateOptions<S>) {
    this.loader = new StateLoader({
      name: options.name,
      load: (attempt) => this.replayOnce(attempt),
      logger: options.logger,
      ...(options.backoff ? { backoff: options.backoff } : {}),
    });
    this.snapshots = options.snapshots;
  }

  /** Turns snapshots on (or off) before the state is loaded: for holders that learn the store after construction. */
  useSnapshots(snapshots: ReplayedStateSnapshots<S> | undefined): void {
    if (this.loader.attempts > 0) throw new Error(`${this.name}: snapshots must be set before the state is loaded`);
    this.snapshots = snapshots;
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

  async close(): Promise<void> {
    this.closed = true;
    if (this.compactTimer) clearInterval(this.compactTimer);
    await this.loader.close();
    // Both use the bus or the store: they end before either is closed under them.
    await Promise.all([this.snapshotWrite, this.compaction].map((running) => running?.catch(() => undefined)));
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
    const snapshots = this.snapshots;
    const started = Date.now();
    const topics = [...new Set(this.options.topics())].sort();
    if (this.options.ensureTopics !== false) await bus.ensureTopics(topics.map((topic) => ({ topic })));
    // Only into a state nothing was folded into yet: a later attempt resumes where the failed one stopped.
    if (snapshots && !this.restoreTried && this.replayed.size === 0) {
      this.restoreTried = true;
      await this.restoreNewest(snapshots, topics);
    }
    const onInvalid = (error: unknown, origin: LogPosition): void =>
      logger.warn(`skipping an undecodable record while rebuilding ${name}`, { ...origin, error: String(error) });
    const handler = async (event: Envelope, position: LogPosition): Promise<void> => {
      const key = `${position.topic}/${position.partition}`;
      const offset = BigInt(position.offset);
      const seen = this.replayed.get(key);
      // Folded by an earlier attempt that failed further on, or held by the snapshot.
      if (seen !== undefined && offset <= seen) return;
      this.options.apply(event, position);
      this.replayed.set(key, offset);
      this.folded += 1;
    };
    await bus.replay({ topics, handler, onInvalid, ...(this.replayed.size > 0 ? { from: this.replayedPositions() } : {}) });
    const report: ReplayReport = {
      events: this.folded,
      ms: Date.now() - started,
      attempts: attempt,
      ...(this.restored ? { snapshot: { id: this.restored.manifest.snapshotId, events: this.restored.manifest.events, restoreMs: this.restored.ms } } : {}),
      ...(this.snapshotSkipped ? { snapshotSkipped: this.snapshotSkipped } : {}),
    };
    logger.info(`${name} rebuilt`, { ...report, ...this.options.describe?.() });
    if (snapshots && this.folded >= (snapshots.minEvents ?? DEFAULT_SNAPSHOT_MIN_EVENTS)) await this.snapshotLoaded(snapshots, topics);
    if (snapshots) this.scheduleCompaction(snapshots, topics);
    return report;
  }

  /** Per partition the replay folded, the first offset it has not: where the next replay (or a snapshot) starts. */
  private replayedPositions(): SnapshotPositions {
    const positions: Record<string, Record<number, string>> = {};
    for (const [key, offset] of this.replayed) {
      const at = key.lastIndexOf('/');
      (positions[key.slice(0, at)] ??= {})[Number(key.slice(at + 1))] = (offset + 1n).toString();
    }
    return positions;
  }

  /** Seeds the live state from the newest usable snapshot; any reason not to leaves it empty for the full replay. */
  private async restoreNewest(snapshots: ReplayedStateSnapshots<S>, topics: readonly string[]): Promise<void> {
    const { logger, name } = this.options;
    const started = Date.now();
    let manifest: SnapshotManifest | undefined;
    try {
      manifest = await snapshots.store.latest(name);
      if (manifest === undefined) {
        this.snapshotSkipped = 'none stored yet';
        return;
      }
      const frames = await this.usableFrames(snapshots, manifest, topics);
      await snapshots.codec.decode(frames, snapshots.live);
    } catch (error) {
      this.snapshotSkipped = error instanceof SnapshotUnusableError ? error.message : `it could not be read: ${String(error)}`;
      logger.warn(`${name}: snapshot not used, replaying the log from the beginning`, { snapshotId: manifest?.snapshotId, reason: this.snapshotSkipped });
      return;
    }
    for (const [topic, partitions] of Object.entries(manifest.positions)) {
      for (const [partition, offset] of Object.entries(partitions)) this.replayed.set(`${topic}/${partition}`, BigInt(offset) - 1n);
    }
    this.restored = { manifest, ms: Date.now() - started };
    logger.info(`${name} restored from a snapshot`, {
      snapshotId: manifest.snapshotId,
      events: manifest.events,
      takenAt: manifest.takenAt,
      bytes: manifest.bytes,
      ms: this.restored.ms,
    });
  }

  /** The frames of a snapshot that matches this state, this log and the log's extent; SnapshotUnusableError otherwise. */
  private async usableFrames(snapshots: ReplayedStateSnapshots<S>, manifest: SnapshotManifest, topics: readonly string[]): Promise<Buffer[]> {
    const { bus } = this.options;
    const [log, ends] = await Promise.all([this.logIdentity(), bus.endOffsets ? bus.endOffsets(topics) : Promise.resolve(undefined)]);
    const mismatch = snapshotMismatch(manifest, { version: snapshots.codec.version, topics, log, ...(ends ? { ends } : {}) });
    if (mismatch !== undefined) throw new SnapshotUnusableError(mismatch);
    return unpackSnapshot(manifest, await snapshots.store.read(manifest));
  }

  private async logIdentity(): Promise<LogIdentity | null> {
    const { bus } = this.options;
    return bus.logIdentity ? bus.logIdentity() : null;
  }

  /**
   * Right after the start-up replay nothing but the log has been folded into the live state: handlers wait for the load,
   * which resolves only after this. The frames are taken now, with turns of the event loop between them (the lease's
   * heartbeat must not starve); compressing and storing them runs on in the background.
   */
  private async snapshotLoaded(snapshots: ReplayedStateSnapshots<S>, topics: readonly string[]): Promise<void> {
    const started = Date.now();
    const frames = await collectFrames(snapshots.codec.encode(snapshots.live));
    const positions = this.replayedPositions();
    const events = (this.restored?.manifest.events ?? 0) + this.folded;
    this.options.logger.info(`${this.options.name} encoded for a snapshot`, { events, frames: frames.length, ms: Date.now() - started });
    this.snapshotWrite = this.store(snapshots, topics, frames, positions, events);
  }

  private async store(
    snapshots: ReplayedStateSnapshots<S>,
    topics: readonly string[],
    frames: readonly Uint8Array[],
    positions: SnapshotPositions,
    events: number,
  ): Promise<void> {
    const { logger, name } = this.options;
    const started = Date.now();
    try {
      const packed = await packSnapshot(frames);
      const manifest = snapshotManifest({ state: name, version: snapshots.codec.version, log: await this.logIdentity(), topics, positions, events }, packed);
      await snapshots.store.write(manifest, packed.chunks);
      logger.info(`${name} snapshot written`, {
        snapshotId: manifest.snapshotId,
        events,
        bytes: manifest.bytes,
        chunks: manifest.chunks,
        ms: Date.now() - started,
      });
    } catch (error) {
      // A snapshot only saves time: the next one (or the full replay) covers what this one would have.
      logger.warn(`${name} snapshot not written`, { error: String(error) });
    }
  }

  private scheduleCompaction(snapshots: ReplayedStateSnapshots<S>, topics: readonly string[]): void {
    const every = snapshots.compactEveryMs ?? DEFAULT_SNAPSHOT_COMPACT_EVERY_MS;
    if (every <= 0 || this.compactTimer || this.closed) return;
    this.compactTimer = setInterval(() => {
      if (this.compaction || this.closed) return;
      this.compaction = this.compact(snapshots, topics)
        .then(() => undefined)
        .finally(() => (this.compaction = undefined));
    }, every);
    this.compactTimer.unref();
  }

  /**
   * Folds the newest snapshot and the log after it into a state of its own and stores that as the next snapshot,
   * when enough lies beyond the newest one. Returns the manifest written, if any. The live state is never read.
   */
  async compact(
    snapshots: ReplayedStateSnapshots<S> | undefined = this.snapshots,
    topics: readonly string[] = [...new Set(this.options.topics())].sort(),
  ): Promise<SnapshotManifest | undefined> {
    const { bus, logger, name } = this.options;
    if (snapshots === undefined) throw new Error(`${name} keeps no snapshots`);
    const endOffsets = bus.endOffsets?.bind(bus);
    if (endOffsets === undefined) throw new Error(`${name}: this bus cannot tell where its topics end, so no snapshot can be compacted`);
    try {
      const ends = await endOffsets(topics);
      const state = snapshots.codec.empty();
      const positions: Record<string, Record<number, string>> = {};
      let events = 0;
      const base = await snapshots.store.latest(name);
      if (base !== undefined) {
        try {
          await snapshots.codec.decode(await this.usableFrames(snapshots, base, topics), state);
          for (const [topic, partitions] of Object.entries(base.positions)) positions[topic] = { ...partitions };
          events = base.events;
        } catch (error) {
          logger.warn(`${name}: newest snapshot not usable, compacting from the beginning of the log`, { snapshotId: base.snapshotId, reason: String(error) });
          return await this.compactFrom(snapshots, topics, snapshots.codec.empty(), {}, 0, ends);
        }
      }
      return await this.compactFrom(snapshots, topics, state, positions, events, ends);
    } catch (error) {
      logger.warn(`${name} snapshot not compacted`, { error: String(error) });
      return undefined;
    }
  }

  private async compactFrom(
    snapshots: ReplayedStateSnapshots<S>,
    topics: readonly string[],
    state: S,
    positions: Record<string, Record<number, string>>,
    baseEvents: number,
    ends: readonly PartitionEnd[],
  ): Promise<SnapshotManifest | undefined> {
    const { bus, logger, name } = this.options;
    if (recordsBeyond(positions, ends) < (snapshots.minEvents ?? DEFAULT_SNAPSHOT_MIN_EVENTS)) return undefined;
    const started = Date.now();
    let events = baseEvents;
    await bus.replay({
      topics,
      from: positions,
      handler: async (event, position) => {
        if (this.closed) throw new Error(`${name} is stopping`);
        snapshots.codec.apply(state, event, position);
        (positions[position.topic] ??= {})[position.partition] = (BigInt(position.offset) + 1n).toString();
        events += 1;
      },
      onInvalid: (error, origin) => logger.warn(`skipping an undecodable record while compacting ${name}`, { ...origin, error: String(error) }),
    });
    const packed = await packSnapshot(await collectFrames(snapshots.codec.encode(state)));
    const manifest = snapshotManifest({ state: name, version: snapshots.codec.version, log: await this.logIdentity(), topics, positions, events }, packed);
    await snapshots.store.write(manifest, packed.chunks);
    logger.info(`${name} snapshot compacted`, {
      snapshotId: manifest.snapshotId,
      events,
      folded: events - baseEvents,
      bytes: manifest.bytes,
      ms: Date.now() - started,
    });
    return manifest;
  }

  /** Resolves once the snapshot written after the start-up replay is stored (or given up); specs and benchmarks wait on it. */
  async snapshotWritten(): Promise<void> {
    await this.snapshotWrite;
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
