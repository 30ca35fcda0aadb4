import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import type { Envelope } from '@grantline/contracts';
import { RetriableError } from '@grantline/messaging';
import { KafkaEventContext } from '@grantline/messaging-nest';
import { AUDIT_EVENT_TYPES } from '../projections/projection';
import { AuditCatchUp } from '../projector/audit-catch-up.service';
import { AuditProjector } from '../projector/audit.projector';

/**
 * The audit reads every lifecycle event (one pattern per event type; the transport derives the topics from the
 * contracts catalogue) and publishes nothing: its only output is the read models.
 */
@Controller()
export class AuditEventsHandler {
  constructor(
    private readonly projector: AuditProjector,
    private readonly catchUp: AuditCatchUp,
  ) {}

  @EventPattern([...AUDIT_EVENT_TYPES])
  async project(@Payload() event: Envelope, @Ctx() context: KafkaEventContext): Promise<void> {
    await this.catchUp.ensureCaughtUp();
    try {
      await this.projector.project(event, context.message);
    } catch (error) {
      // A database outage is retried by the runner until it heals (ADR 0009): the partition waits, nothing is skipped.
      throw new RetriableError(`audit projection failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
  }
}
