import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import {
  CatalogPublished,
  IdentityOffboarded,
  IdentityOwnerChanged,
  IdentityUpserted,
  PolicyDecisionRecorded,
  RequestSubmitted,
  RequestWithdrawn,
  TimerFired,
} from '@grantline/contracts';
import type { DecisionRecordedData, Envelope, RequestSubmittedData, RequestWithdrawnData, TimerFiredData } from '@grantline/contracts';
import { ApprovalStateService } from './approval-state.service';

/**
 * The approval service's Kafka edge. Handlers publish what they decide themselves (under the request's lock,
 * before the offset is committed) and return nothing: the in-memory state may only move on once Kafka has
 * acknowledged the events, and a redelivery decides again on that state with the same event ids.
 */
@Controller()
export class ApprovalEventsHandler {
  constructor(private readonly state: ApprovalStateService) {}

  @EventPattern(RequestSubmitted.type)
  async onRequestSubmitted(@Payload() event: Envelope<RequestSubmittedData>): Promise<void> {
    await this.state.handle(event.data.requestId, event, { kind: 'route' });
  }

  @EventPattern(PolicyDecisionRecorded.type)
  async onDecisionRecorded(@Payload() event: Envelope<DecisionRecordedData>): Promise<void> {
    await this.state.handle(event.data.requestId, event, { kind: 'route' });
  }

  @EventPattern(RequestWithdrawn.type)
  async onRequestWithdrawn(@Payload() event: Envelope<RequestWithdrawnData>): Promise<void> {
    await this.state.handle(event.data.requestId, event, undefined);
  }

  @EventPattern(TimerFired.type)
  async onTimerFired(@Payload() event: Envelope<TimerFiredData>): Promise<void> {
    const { kind, target, firedAt } = event.data;
    if (kind !== 'approval_deadline' || target.taskId === undefined) return;
    await this.state.whenLoaded();
    const requestId = target.requestId ?? this.state.requestOfTask(target.taskId);
    if (requestId === undefined) return;
    await this.state.handle(requestId, undefined, { kind: 'deadline', taskId: target.taskId, timerEventId: event.id, firedAt });
  }

  @EventPattern(IdentityUpserted.type)
  onIdentityUpserted(@Payload() event: Envelope): Promise<void> {
    return this.directory(event);
  }

  @EventPattern(IdentityOwnerChanged.type)
  onIdentityOwnerChanged(@Payload() event: Envelope): Promise<void> {
    return this.directory(event);
  }

  @EventPattern(IdentityOffboarded.type)
  onIdentityOffboarded(@Payload() event: Envelope): Promise<void> {
    return this.directory(event);
  }

  @EventPattern(CatalogPublished.type)
  onCatalogPublished(@Payload() event: Envelope): Promise<void> {
    return this.directory(event);
  }

  /**
   * After the start-up replay (applyDirectory waits for it), so a live event and its replayed copy fold in the
   * same order; resolves once the routes that were waiting for it are published.
   */
  private directory(event: Envelope): Promise<void> {
    return this.state.applyDirectory(event);
  }
}
