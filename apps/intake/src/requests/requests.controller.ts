import { Body, Controller, Get, Headers, Logger, Param, Post, Res, UseGuards } from '@nestjs/common';
import { RequestSubmitted, RequestWithdrawn, RevocationRequested } from '@grantline/contracts';
import type { Envelope, RequestSubmittedData } from '@grantline/contracts';
import { CatalogService } from '../catalog/catalog.service';
import { IdempotentEndpoint } from '../http/idempotent-endpoint';
import { BearerAuthGuard, CurrentPrincipal, ProblemException, forbidden, invalidInput } from '@grantline/http-edge';
import { actorOf } from '../authorization/actor';
import { RequestAccess } from '../authorization/request-access';
import type { Principal } from '@grantline/http-edge';
import { INTAKE_PROBLEMS } from '../http/intake-problems';
import { IntakePublisher } from '../publishing/intake-publisher';
import { RequestStatusStore, RevocationTickets } from '../status/request-status.store';
import type { RequestStatusView } from '../status/request-status.projection';
import { RevokeBodySchema, WithdrawBodySchema, parseBody, validateSubmission } from './request-body.schema';

interface ResponseLike {
  status(code: number): unknown;
  setHeader(name: string, value: string): unknown;
}

const CLOSED: readonly RequestStatusView['status'][] = ['denied', 'withdrawn', 'revoked'];
const ID_PATTERN = /^\S{1,200}$/;

function checkId(field: string, id: string): void {
  if (!ID_PATTERN.test(id)) throw invalidInput([{ field, message: 'expected an id without whitespace, at most 200 characters' }]);
}

/** Access requests: submit, read, withdraw, and manual revocation of a grant. */
@Controller('v1')
@UseGuards(BearerAuthGuard)
export class RequestsController {
  private readonly logger = new Logger('requests');

  constructor(
    private readonly catalog: CatalogService,
    private readonly publisher: IntakePublisher,
    private readonly statuses: RequestStatusStore,
    private readonly endpoint: IdempotentEndpoint,
    private readonly revocationTickets: RevocationTickets,
    private readonly access: RequestAccess,
  ) {}

  /**
   * Any person may ask, for themselves or for someone else: whether the relation to the beneficiary allows it is
   * policy's decision (the input carries it), not this endpoint's. A workload (a CI pipeline, an AI agent) may ask
   * only for itself; an identity source or an on-call system asks for nothing.
   */
  @Post('requests')
  async submit(
    @CurrentPrincipal() principal: Principal,
    @Body() body: unknown,
    @Headers('idempotency-key') key: string | undefined,
    @Res({ passthrough: true }) response: ResponseLike,
  ): Promise<unknown> {
    if (!principal.roles.has('member')) {
      const subject = body !== null && typeof body === 'object' ? (body as { subject?: { id?: unknown } }).subject?.id : undefined;
      if (principal.roles.size > 0 || subject !== principal.subject) throw forbidden(principal, 'a workload may request access only for itself (subject.id = its own id)');
    }
    const now = new Date();
    const validation = validateSubmission(body, this.catalog, now);
    if (!validation.ok) throw invalidInput(validation.errors);
    const submission = validation.value;
    return this.endpoint.run({ principal, key, method: 'POST', route: '/v1/requests', body, response }, async (ids) => {
      const requestId = `req-${ids.id('request-id')}`;
      const data: RequestSubmittedData = { requestId, requesterId: principal.subject, ...submission, channel: 'api' };
      const envelope = await this.publisher.publish({
        def: RequestSubmitted,
        data,
        id: ids.id('request-submitted'),
        subject: requestId,
        correlationId: requestId,
        actor: actorOf(principal),
        time: now.toISOString(),
      });
      await this.record(envelope);
      return { status: 202, body: { requestId, status: 'submitted', eventId: envelope.id, links: { self: `/v1/requests/${requestId}` } } };
    });
  }

  @Get('requests/:id')
  async get(@CurrentPrincipal() principal: Principal, @Param('id') requestId: string): Promise<RequestStatusView> {
    const view = ID_PATTERN.test(requestId) ? await this.statuses.get(requestId) : undefined;
    return this.access.assertVisible(principal, requestId, view);
  }

  @Post('requests/:id/withdraw')
  async withdraw(
    @CurrentPrincipal() principal: Principal,
    @Param('id') requestId: string,
    @Body() body: unknown,
    @Headers('idempotency-key') key: string | undefined,
    @Res({ passthrough: true }) response: ResponseLike,
  ): Promise<unknown> {
    const authorized = await this.access.assertMayWithdraw(principal, requestId, ID_PATTERN.test(requestId) ? await this.statuses.get(requestId) : undefined);
    const parsed = parseBody(WithdrawBodySchema, body);
    if (!parsed.ok) throw invalidInput(parsed.errors);
    return this.endpoint.run({ principal, key, method: 'POST', route: `/v1/requests/${requestId}/withdraw`, body, response }, async (ids) => {
      // Authorized above; read again only for the status, which may have moved on meanwhile.
      const view = (await this.statuses.get(requestId)) ?? authorized;
      if (CLOSED.includes(view.status)) throw ProblemException.of(INTAKE_PROBLEMS.requestClosed, `Request ${requestId} is already ${view.status}`);
      const envelope = await this.publisher.publish({
        def: RequestWithdrawn,
        data: { requestId, withdrawnBy: principal.subject, ...(parsed.value.reason === undefined ? {} : { reason: parsed.value.reason }) },
        id: ids.id('request-withdrawn'),
        subject: requestId,
        correlationId: requestId,
        actor: actorOf(principal),
        time: new Date().toISOString(),
      });
      await this.record(envelope);
      return { status: 202, body: { requestId, status: 'withdrawal_requested', eventId: envelope.id } };
    });
  }

  @Post('grants/:id/revoke')
  async revoke(
    @CurrentPrincipal() principal: Principal,
    @Param('id') grantId: string,
    @Body() body: unknown,
    @Headers('idempotency-key') key: string | undefined,
    @Res({ passthrough: true }) response: ResponseLike,
  ): Promise<unknown> {
    const known = ID_PATTERN.test(grantId) ? await this.statuses.findByGrant(grantId) : undefined;
    await this.access.assertMayRevoke(principal, grantId, known);
    checkId('id', grantId);
    const parsed = parseBody(RevokeBodySchema, body);
    if (!parsed.ok) throw invalidInput(parsed.errors);
    return this.endpoint.run({ principal, key, method: 'POST', route: `/v1/grants/${grantId}/revoke`, body, response }, async (ids) => {
      // Keyed by the request the grant came from when known, so the revocation is ordered with that request's events.
      const owner = known;
      const aggregate = owner?.requestId ?? grantId;
      const revocationId = `rev-${ids.id('revocation-id')}`;
      // Followed before publishing, so the revocation cannot complete before the ticket is known to wait for it.
      if (parsed.value.ticket) await this.revocationTickets.follow(revocationId, grantId, parsed.value.ticket, owner?.requestId);
      const envelope = await this.publisher.publish({
        def: RevocationRequested,
        data: { revocationId, requestedBy: principal.subject, reason: parsed.value.reason, grantId },
        id: ids.id('revocation-requested'),
        subject: aggregate,
        correlationId: aggregate,
        actor: actorOf(principal),
        time: new Date().toISOString(),
      });
      if (owner) await this.record(envelope);
      return { status: 202, body: { revocationId, grantId, status: 'revocation_requested', eventId: envelope.id } };
    });
  }

  /** The read model learns our own events at once, so a GET right after a 202 finds the request. */
  private async record(envelope: Envelope): Promise<void> {
    try {
      await this.statuses.apply(envelope);
    } catch (error) {
      // The consumer applies the same event from the log; a failure here only delays the read model.
      this.logger.warn(`read model update deferred for ${envelope.id}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}
