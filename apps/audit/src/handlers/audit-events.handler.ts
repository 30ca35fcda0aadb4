import { Controller } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import type { Envelope } from '@grantline/contracts';
import { RetriableError } from '@grantline/messaging';
import { EventBatchPattern, KafkaEventBatchContext } from '@grantline/messaging-nest';
import { AUDIT_EVENT_TYPES } from '../projections/projection';
import { AuditCatchUp } from '../projector/audit-catch-up.service';
import { AuditProjector } from '../projector/audit.projector';

/**
 * The audit reads every lifecycle event (one pattern per event type; the transport derives the topics from the
 * contracts catalogue), a partition batch at a time, and publishes nothing: its only output is the read models.
 */
@Controller()
export class AuditEventsHandler {
  constructor(
    private readonly projector: AuditProjector,
    private readonly catchUp: AuditCatchUp,
  ) {}

  @EventBatchPattern([...AUDIT_EVENT_TYPES])
  async project(@Payload() events: Envelope[], @Ctx() context: KafkaEventBatchContext): Promise<void> {
    await this.catchUp.ensureCaughtUp();
    const { topic, partition, offsets } = context.batch;
    try {
      await this.projector.projectBatch(events.map((event, index) => ({ event, position: { topic, partition, offset: offsets[index]! } })));
    } catch (error) {
      // A database outage is retried by the runner until it heals (ADR 0009): the partition waits, nothing is skipped.
      throw new RetriableError(`audit projection failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
  }
}
