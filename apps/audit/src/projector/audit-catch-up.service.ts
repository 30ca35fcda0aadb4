import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import type { OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import type { EventRegistry } from '@grantline/contracts';
import { StateLoader, StateReadinessRegistry } from '@grantline/messaging';
import type { ClosableState, MessageBus } from '@grantline/messaging';
import { EVENT_REGISTRY, MESSAGE_BUS } from '@grantline/messaging-nest';
import { AUDIT_EVENT_TYPES } from '../projections/projection';
import { ReadModelStore } from '../persistence/read-model.store';
import { AuditProjector } from './audit.projector';

export interface CatchUpReport {
  readonly replayed: boolean;
  readonly events: number;
  readonly ms: number;
}

/**
 * Rebuilds by replay. The consumer group's committed offsets live in Kafka, the read models in MongoDB: when
 * the database was dropped (or a new projection version added) the group would resume at the end and the read
 * models would stay empty. So at start, any projection without checkpoints makes the service replay its topics
 * from the beginning; live handling waits until that is done, so a live event can never push a checkpoint past
 * offsets the replay has not reached yet.
 *
 * Fails closed through the shared StateLoader: a catch-up that fails (MongoDB or Kafka away, a foreign log) is
 * retried with capped backoff for as long as it takes; meanwhile the read models are not ready (`/health/ready`
 * names them with the last error, the query API answers 503) and live handlers wait instead of projecting.
 */
@Injectable()
export class AuditCatchUp implements ClosableState, OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('AuditCatchUp');
  private readonly loader: StateLoader<CatchUpReport>;

  constructor(
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
    @Inject(EVENT_REGISTRY) private readonly registry: EventRegistry,
    private readonly store: ReadModelStore,
    private readonly projector: AuditProjector,
    @Optional() @Inject(StateReadinessRegistry) readiness?: StateReadinessRegistry,
  ) {
    this.loader = new StateLoader({
      name: 'audit read models',
      // Safe to repeat: checkpoints skip what an earlier attempt projected.
      load: () => this.catchUp(),
      logger: { info: (msg, fields) => this.logger.log({ msg, ...fields }), warn: (msg, fields) => this.logger.warn({ msg, ...fields }) },
    });
    readiness?.register(this.loader);
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

  /** The topics the projections read, from the registry (the contracts catalogue, or a spec's own). */
  topics(): string[] {
    return [...new Set(AUDIT_EVENT_TYPES.map((type) => this.registry.definitionOf(type).topic))].sort();
  }

  /**
   * The HTTP port opens after the first attempt: a healthy start answers from caught-up read models at once, and a
   * failing one does not hold the start-up (its retries go on, and readiness says why).
   */
  async onApplicationBootstrap(): Promise<void> {
    await this.loader.whenAttempted();
  }

  async onModuleDestroy(): Promise<void> {
    await this.loader.close();
  }

  close(): Promise<void> {
    return this.loader.close();
  }

  /**
   * Resolves once caught up, however many attempts that takes (the same report for every caller); rejects with
   * the retriable StateNotLoadedError only when the service stops first.
   */
  ensureCaughtUp(): Promise<CatchUpReport> {
    return this.loader.whenLoaded();
  }

  private async catchUp(): Promise<CatchUpReport> {
    await this.store.ensureIndexes();
    // Checkpoints are kept per topic partition: they mean something only for the log they were taken from.
    await this.store.claimLog(await this.bus.logIdentity());
    const missing: string[] = [];
    for (const projection of this.projector.projections) if (!(await this.store.hasCheckpoints(projection))) missing.push(projection.name);
    if (missing.length === 0) return { replayed: false, events: 0, ms: 0 };
    const started = Date.now();
    const topics = this.topics();
    this.logger.log(`replaying ${topics.join(', ')} for ${missing.join(', ')}`);
    // Batches are folded in memory and written when memory is full and once at the end, checkpoints last: an
    // interrupted catch-up leaves documents (which a new replay finds applied) but no checkpoint that would skip it.
    const events = await this.bus.replayBatches({
      topics,
      batchHandler: async (batch, { topic, partition, offsets }) => {
        await this.projector.fold(batch.map((event, index) => ({ event, position: { topic, partition, offset: offsets[index]! } })));
        await this.projector.flushIfFull();
      },
      onInvalid: (error, origin) => this.logger.warn(`skipped an undecodable record at ${origin.topic}/${origin.partition}@${origin.offset}: ${String(error)}`),
    });
    await this.projector.flush();
    const report = { replayed: true, events, ms: Date.now() - started };
    this.logger.log(`replayed ${events} events in ${report.ms} ms`);
    return report;
  }
}
