import { Inject, Injectable, Logger } from '@nestjs/common';
import type { OnApplicationBootstrap } from '@nestjs/common';
import type { EventRegistry } from '@grantline/contracts';
import { DEFAULT_RETRY_POLICY, RetriableError, backoffDelayMs } from '@grantline/messaging';
import type { MessageBus } from '@grantline/messaging';
import { EVENT_REGISTRY, MESSAGE_BUS } from '@grantline/messaging-nest';
import { AUDIT_EVENT_TYPES } from '../projections/projection';
import { ForeignLogError, ReadModelStore } from '../persistence/read-model.store';
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
 */
@Injectable()
export class AuditCatchUp implements OnApplicationBootstrap {
  private readonly logger = new Logger('AuditCatchUp');
  private running: Promise<CatchUpReport> | undefined;

  constructor(
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
    @Inject(EVENT_REGISTRY) private readonly registry: EventRegistry,
    private readonly store: ReadModelStore,
    private readonly projector: AuditProjector,
  ) {}

  /** The topics the projections read, from the registry (the contracts catalogue, or a spec's own). */
  topics(): string[] {
    return [...new Set(AUDIT_EVENT_TYPES.map((type) => this.registry.definitionOf(type).topic))].sort();
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.ensureCaughtUp();
  }

  /** Memoised; a failed attempt is forgotten so the next caller tries again. */
  ensureCaughtUp(): Promise<CatchUpReport> {
    this.running ??= this.catchUpWithRetries().catch((error: unknown) => {
      this.running = undefined;
      throw new RetriableError(`audit catch-up replay failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    });
    return this.running;
  }

  /** Freshly created topics can briefly lack a leader; replay is safe to repeat (checkpoints skip what is done). */
  private async catchUpWithRetries(): Promise<CatchUpReport> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await this.catchUp();
      } catch (error) {
        if (error instanceof ForeignLogError || attempt >= DEFAULT_RETRY_POLICY.maxAttempts) throw error;
        const delay = backoffDelayMs(DEFAULT_RETRY_POLICY, attempt);
        this.logger.warn(`catch-up attempt ${attempt} failed (${error instanceof Error ? error.message : String(error)}), retrying in ${delay} ms`);
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
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
    const events = await this.bus.replay({
      topics,
      handler: async (event, context) => {
        await this.projector.project(event, context);
      },
      onInvalid: (error, origin) =>
        this.logger.warn(`skipped an undecodable record at ${origin.topic}/${origin.partition}@${origin.offset}: ${String(error)}`),
    });
    const report = { replayed: true, events, ms: Date.now() - started };
    this.logger.log(`replayed ${events} events in ${report.ms} ms`);
    return report;
  }
}
