import { Inject } from '@nestjs/common';
import { CommandHandler } from '@nestjs/cqrs';
import type { ICommandHandler } from '@nestjs/cqrs';
import { RequestSubmitted, RequestWithdrawn, RevocationRequested } from '@grantline/contracts';
import type { RequestSubmittedData } from '@grantline/contracts';
import type { Clock } from '@grantline/decider';
import { ProblemException } from '@grantline/http-edge';
import { CLOCK } from '@grantline/service-kit';
import { RequestRevocation, SubmitAccessRequest, WithdrawRequest } from '../commands/intake-commands';
import type { Recorded } from '../commands/intake-commands';
import { INTAKE_PROBLEMS } from '../http/intake-problems';
import { IntakePublisher } from '../publishing/intake-publisher';
import { AcceptedRequests } from '../status/accepted-requests';
import type { RequestStatusView } from '../status/request-status.projection';
import { RevocationTickets } from '../status/request-status.store';

const CLOSED: readonly RequestStatusView['status'][] = ['denied', 'withdrawn', 'revoked'];

// The path to a 202 is: publish, wait for Kafka's acknowledgement, remember the event in this instance's accepted
// view (memory, no I/O), answer. The read model is written by the consumer alone, from the log.

@CommandHandler(SubmitAccessRequest)
export class SubmitAccessRequestHandler implements ICommandHandler<SubmitAccessRequest> {
  constructor(
    private readonly publisher: IntakePublisher,
    private readonly accepted: AcceptedRequests,
  ) {}

  async execute({ requestId, eventId, requester, submission, submittedAt }: SubmitAccessRequest): Promise<Recorded> {
    const data: RequestSubmittedData = { requestId, requesterId: requester.id, ...submission, channel: 'api' };
    const envelope = await this.publisher.publish({
      def: RequestSubmitted,
      data,
      id: eventId,
      subject: requestId,
      correlationId: requestId,
      actor: requester,
      time: submittedAt.toISOString(),
    });
    this.accepted.remember(envelope);
    return { eventId: envelope.id };
  }
}

@CommandHandler(WithdrawRequest)
export class WithdrawRequestHandler implements ICommandHandler<WithdrawRequest> {
  constructor(
    private readonly publisher: IntakePublisher,
    private readonly accepted: AcceptedRequests,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async execute({ requestId, eventId, withdrawer, authorizedStatus: status, reason }: WithdrawRequest): Promise<Recorded> {
    // The status the edge authorized against, read a moment ago (no second read: a withdrawal racing the request's
    // end is harmless, the projection keeps a final status final).
    if (CLOSED.includes(status)) throw ProblemException.of(INTAKE_PROBLEMS.requestClosed, `Request ${requestId} is already ${status}`);
    const envelope = await this.publisher.publish({
      def: RequestWithdrawn,
      data: { requestId, withdrawnBy: withdrawer.id, ...(reason === undefined ? {} : { reason }) },
      id: eventId,
      subject: requestId,
      correlationId: requestId,
      actor: withdrawer,
      time: this.clock.now().toISOString(),
    });
    this.accepted.remember(envelope);
    return { eventId: envelope.id };
  }
}

@CommandHandler(RequestRevocation)
export class RequestRevocationHandler implements ICommandHandler<RequestRevocation> {
  constructor(
    private readonly publisher: IntakePublisher,
    private readonly accepted: AcceptedRequests,
    private readonly revocationTickets: RevocationTickets,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async execute({ grantId, revocationId, eventId, requester, revocation, requestId }: RequestRevocation): Promise<Recorded> {
    // Keyed by the request the grant came from when known, so the revocation is ordered with that request's events.
    const aggregate = requestId ?? grantId;
    // Followed before publishing, so the revocation cannot complete before the ticket is known to wait for it.
    if (revocation.ticket) await this.revocationTickets.follow(revocationId, grantId, revocation.ticket, requestId);
    const envelope = await this.publisher.publish({
      def: RevocationRequested,
      data: { revocationId, requestedBy: requester.id, reason: revocation.reason, grantId },
      id: eventId,
      subject: aggregate,
      correlationId: aggregate,
      actor: requester,
      time: this.clock.now().toISOString(),
    });
    if (requestId !== undefined) this.accepted.remember(envelope);
    return { eventId: envelope.id };
  }
}

export const REQUEST_COMMAND_HANDLERS = [SubmitAccessRequestHandler, WithdrawRequestHandler, RequestRevocationHandler];
