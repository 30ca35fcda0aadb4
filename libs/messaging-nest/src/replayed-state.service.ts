import { Inject, Logger, Optional } from '@nestjs/common';
import type { OnApplicationBootstrap, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import type { Envelope, EventDefinition, EventRegistry } from '@grantline/contracts';
import { ReplayedState, StateReadinessRegistry } from '@grantline/messaging';
import type {
  FreshnessMark,
  LogPosition,
  MessageBus,
  ReplayReport,
  SnapshotManifest,
  SnapshotStore,
  StateLoadBackoff,
  StateReadiness,
  StateSnapshotCodec,
} from '@grantline/messaging';

/** Where and how often a service's replayed states are snapshotted (ADR 0037); the service kit provides it. */
export interface StateSnapshotSettings {
  readonly store: SnapshotStore;
  /** A snapshot is written once at least this many events lie beyond the newest one. */
  readonly minEvents: number;
  /** How often a running service checks whether one is due; 0: only right after the start-up replay. */
  readonly compactEveryMs: number;
}

/** Injection token of the StateSnapshotSettings; absent (or undefined): no snapshots, every start replays the log. */
export const STATE_SNAPSHOTS = Symbol('STATE_SNAPSHOTS');

export interface ReplayedStateServiceOptions<TState = unknown> {
  /** The events the state is folded from; their topics are replayed. */
  readonly events: readonly EventDefinition[];
  /** Names the state in log lines ("notifier state rebuilt"), in `/health/ready` and in 503 problems. */
  readonly name: string;
  /** The log context (usually the service name). */
  readonly logContext: string;
  /** Extra fields for the "rebuilt" log line (sizes). */
  readonly describe?: () => Record<string, unknown>;
  /** Between failed replays; the default suits services (specs pass a short one). */
  readonly backoff?: StateLoadBackoff;
  /**
   * How the state is written to a snapshot and read back (ADR 0037). With it, and the kit's STATE_SNAPSHOTS, a start
   * restores the newest snapshot and replays only the log after it. Its `apply` must fold as `applyReplayed` does.
   */
  readonly snapshot?: StateSnapshotCodec<TState>;
}

/** What the replay folds events into. */
export interface FoldedState {
  apply(event: Envelope, position?: LogPosition): unknown;
}

/**
 * A service's in-memory state as a Nest provider: rebuilt once per start by replaying the topics of its events
 * from the beginning, then kept up to date by the handlers' live events.
 *
 * Fails closed: a replay that fails is retried with capped backoff until it succeeds, and meanwhile the state is
 * not ready. Handlers wait for `whenLoaded()` (the transport may start consuming before Nest's bootstrap hooks
 * run, and must not work from an empty state); HTTP routes that read the state are guarded by the kit's
 * `RequireLoaded` (503); `/health/ready` names the state and its last error, through the `StateReadinessRegistry`
 * the service kit provides. When the service stops, waiting handlers are released (`StateNotLoadedError`,
 * retriable, their messages left uncommitted).
 */
export abstract class ReplayedStateService<TState extends FoldedState> implements StateReadiness, OnModuleInit, OnApplicationBootstrap, OnModuleDestroy {
  /** The kit's registry; absent where a spec builds the module without the kit. Injected as a property so subclasses' constructors stay as they are. */
  @Optional()
  @Inject(StateReadinessRegistry)
  private readonly readiness?: StateReadinessRegistry;
  @Optional()
  @Inject(STATE_SNAPSHOTS)
  private readonly snapshotSettings?: StateSnapshotSettings;
  private readonly rebuild: ReplayedState<TState>;

  protected constructor(
    protected readonly bus: MessageBus,
    protected readonly registry: EventRegistry,
    readonly state: TState,
    private readonly options: ReplayedStateServiceOptions<TState>,
  ) {
    const logger = new Logger(options.logContext);
    this.rebuild = new ReplayedState<TState>({
      bus,
      topics: () => this.topics(),
      apply: (event, position) => this.applyReplayed(event, position),
      logger: { info: (msg, fields) => logger.log({ msg, ...fields }), warn: (msg, fields) => logger.warn({ msg, ...fields }) },
      name: options.name,
      ...(options.describe ? { describe: options.describe } : {}),
      ...(options.backoff ? { backoff: options.backoff } : {}),
    });
  }

  get name(): string {
    return this.options.name;
  }

  isReady(): boolean {
    return this.rebuild.isReady();
  }

  get lastError(): string | undefined {
    return this.rebuild.lastError;
  }

  /** Replays started so far (the first included). */
  get attempts(): number {
    return this.rebuild.attempts;
  }

  onModuleInit(): void {
    this.readiness?.register(this.rebuild);
    const settings = this.snapshotSettings;
    if (settings && this.options.snapshot) {
      this.rebuild.useSnapshots({
        store: settings.store,
        codec: this.options.snapshot,
        live: this.state,
        minEvents: settings.minEvents,
        compactEveryMs: settings.compactEveryMs,
      });
    }
  }

  /** What the start-up replay did: events folded, and the snapshot it started from (or why none). */
  get replayReport(): ReplayReport | undefined {
    return this.rebuild.report;
  }

  /** Resolves once the snapshot written after the start-up replay is stored (or given up). */
  snapshotWritten(): Promise<void> {
    return this.rebuild.snapshotWritten();
  }

  /** Writes a snapshot now if enough lies beyond the newest one (the compactor's step; operators and specs). */
  compactSnapshot(): Promise<SnapshotManifest | undefined> {
    return this.rebuild.compact();
  }

  /**
   * Starts the rebuild (and whatever a subclass's whenLoaded chains to it). The start-up waits for the first replay
   * only: a healthy start opens its HTTP port with the state loaded, and a failing one does not hang (the retries go
   * on, and readiness says why).
   */
  async onApplicationBootstrap(): Promise<void> {
    // Rejects only when the service stops first; the waiters that matter are the handlers.
    void this.whenLoaded().catch(() => undefined);
    await this.rebuild.whenAttempted();
  }

  /** Stops retrying, and releases handlers still waiting (the consumer retries them until it has stopped). */
  async onModuleDestroy(): Promise<void> {
    // Before the messaging module disconnects the bus: an attempt still running ends first.
    await this.rebuild.close();
  }

  topics(): string[] {
    return this.topicsOf(this.options.events);
  }

  /** Resolves once the state is rebuilt, however many replays that takes; rejects only when the service stops first. */
  async whenLoaded(): Promise<void> {
    await this.rebuild.whenLoaded();
  }

  /** Resolves once the first replay has ended, whatever its outcome: for start-up steps a healthy start should await. */
  whenAttempted(): Promise<void> {
    return this.rebuild.whenAttempted();
  }

  /** Applies a live event unless the start-up replay (or a freshness catch-up) already did. */
  applyLive(event: Envelope, position: LogPosition): void {
    this.rebuild.applyLive(event, position);
  }

  /** The topics the registry places these events on (specs and namespaces bind their own). */
  topicsOf(definitions: readonly Pick<EventDefinition, 'name'>[]): string[] {
    return [...new Set(definitions.map((def) => this.registry.latestOf(def.name).topic))].sort();
  }

  /** Taken when an input is received; `ensureFresh(mark, topics)` then covers what was published before it. */
  freshnessMark(): FreshnessMark {
    return this.rebuild.freshnessMark();
  }

  /**
   * Resolves once every record published on `topics` before the mark is folded (see ReplayedState.ensureFresh):
   * the fence a service puts before deciding on facts another service publishes. Live events must come in through
   * `applyLive`, so the fence knows how far the live consumer is.
   */
  ensureFresh(mark: FreshnessMark, topics: readonly string[]): Promise<void> {
    return this.rebuild.ensureFresh(mark, topics);
  }

  /** Folds one event of the replay (or a live one through applyLive); override when the state is more than `state`. */
  protected applyReplayed(event: Envelope, position: LogPosition): void {
    this.state.apply(event, position);
  }
}
