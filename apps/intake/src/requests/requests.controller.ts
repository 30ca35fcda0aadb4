import { Body, Controller, Get, Headers, Inject, Param, Post, Res, UseGuards } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { grantIdOf } from '@grantline/contracts';
import type { Clock } from '@grantline/decider';
import { CLOCK } from '@grantline/service-kit';
import { CatalogService } from '../catalog/catalog.service';
import { IdempotentEndpoint } from '../http/idempotent-endpoint';
import { BearerAuthGuard, CurrentPrincipal, forbidden, invalidInput } from '@grantline/http-edge';
import { actorOf } from '../authorization/actor';
import { RequestAccess } from '../authorization/request-access';
import type { Principal } from '@grantline/http-edge';
import { RequestRevocation, SubmitAccessRequest, WithdrawRequest } from '../commands/intake-commands';
import { AcceptedRequests } from '../status/accepted-requests';
import { RequestStatusStore } from '../status/request-status.store';
import type { RequestStatusView } from '../status/request-status.projection';
import type { RequestStatusAnswer, RevokeAccepted, SubmitAccepted, WithdrawAccepted } from '../http/intake-answers.schema';
import { RevokeBodySchema, WithdrawBodySchema, parseBody, validateSubmission } from './request-body.schema';

interface ResponseLike {
  status(code: number): unknown;
  setHeader(name: string, value: string): unknown;
}

const ID_PATTERN = /^\S{1,200}$/;

function checkId(field: string, id: string): void {
  if (!ID_PATTERN.test(id)) throw invalidInput([{ field, message: 'expected an id without whitespace, at most 200 characters' }]);
}

/**
 * Access requests: submit, read, withdraw, and manual revocation of a grant. Authorization, body validation, the
 * Idempotency-Key and the answer are HTTP's; what is written is the command handlers' (request-command-handlers.ts).
 */
@Controller('v1')
@UseGuards(BearerAuthGuard)
export class RequestsController {
  constructor(
    private readonly catalog: CatalogService,
    private readonly statuses: RequestStatusStore,
    private readonly accepted: AcceptedRequests,
    private readonly endpoint: IdempotentEndpoint,
    private readonly access: RequestAccess,
    private readonly commands: CommandBus,
    @Inject(CLOCK) private readonly clock: Clock,
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
      if (principal.roles.size > 0 || subject !== principal.subject)
        throw forbidden(principal, 'a workload may request access only for itself (subject.id = its own id)');
    }
    const now = this.clock.now();
    const validation = validateSubmission(body, this.catalog, now);
    if (!validation.ok) throw invalidInput(validation.errors);
    const submission = validation.value;
    return this.endpoint.run({ principal, key, method: 'POST', route: '/v1/requests', body, response }, async (ids) => {
      const requestId = `req-${ids.id('request-id')}`;
      const { eventId } = await this.commands.execute(new SubmitAccessRequest(requestId, ids.id('request-submitted'), actorOf(principal), submission, now));
      const answer: SubmitAccepted = { requestId, status: 'submitted', eventId, links: { self: `/v1/requests/${requestId}` } };
      return { status: 202, body: answer };
    });
  }

  @Get('requests/:id')
  async get(@CurrentPrincipal() principal: Principal, @Param('id') requestId: string): Promise<RequestStatusAnswer> {
    return this.access.assertVisible(principal, requestId, await this.viewOf(requestId));
  }

  /**
   * The read model's view with what this instance accepted and the projection has not applied yet on top (a request
   * submitted here a moment ago is found). Whatever it comes from, the same authorization rules apply to it.
   */
  private async viewOf(requestId: string): Promise<RequestStatusView | undefined> {
    if (!ID_PATTERN.test(requestId)) return undefined;
    return this.accepted.view(requestId, await this.statuses.get(requestId));
  }

  /**
   * The request a grant was provisioned for, and the grant's entitlement. The projection attaches a grant once it has
   * read the grant's events, which may trail the grant by seconds under load: a person whose access is already live
   * must still be able to remove it. A grant id is its request's id and the entitlement's (`grantIdOf`), so a grant
   * the projection does not know yet is found through its request, when that request asked for that entitlement.
   */
  private async grantRequest(grantId: string): Promise<{ view: RequestStatusView; entitlementId: string } | undefined> {
    // Through its request first: one read by `_id` (a seek; on FerretDB the one filter it does not scan for). Ids may
    // hold ':' themselves: every split whose right side is a catalogue entitlement is a candidate.
    for (let at = grantId.indexOf(':'); at > 0; at = grantId.indexOf(':', at + 1)) {
      const requestId = grantId.slice(0, at);
      const entitlementId = grantId.slice(at + 1);
      if (this.catalog.entitlement(entitlementId) === undefined || grantIdOf(requestId, entitlementId) !== grantId) continue;
      const view = await this.viewOf(requestId);
      if (view === undefined) continue;
      const attached = view.grants.some((candidate) => candidate.grantId === grantId);
      if (attached || this.requestedEntitlements(view).includes(entitlementId)) return { view, entitlementId };
    }
    // A grant of an entitlement the catalogue no longer lists: by the grant ids the projection attached.
    const attached = await this.statuses.findByGrant(grantId);
    const grant = attached?.grants.find((candidate) => candidate.grantId === grantId);
    return attached !== undefined && grant !== undefined ? { view: attached, entitlementId: grant.entitlementId } : undefined;
  }

  private requestedEntitlements(view: RequestStatusView): readonly string[] {
    if ('entitlementIds' in view.items) return view.items.entitlementIds;
    return this.catalog.accessPackage(view.items.accessPackageId)?.entitlementIds ?? [];
  }

  @Post('requests/:id/withdraw')
  async withdraw(
    @CurrentPrincipal() principal: Principal,
    @Param('id') requestId: string,
    @Body() body: unknown,
    @Headers('idempotency-key') key: string | undefined,
    @Res({ passthrough: true }) response: ResponseLike,
  ): Promise<unknown> {
    const authorized = await this.access.assertMayWithdraw(principal, requestId, await this.viewOf(requestId));
    const parsed = parseBody(WithdrawBodySchema, body);
    if (!parsed.ok) throw invalidInput(parsed.errors);
    return this.endpoint.run({ principal, key, method: 'POST', route: `/v1/requests/${requestId}/withdraw`, body, response }, async (ids) => {
      const { eventId } = await this.commands.execute(
        new WithdrawRequest(requestId, ids.id('request-withdrawn'), actorOf(principal), authorized.status, parsed.value.reason),
      );
      const answer: WithdrawAccepted = { requestId, status: 'withdrawal_requested', eventId };
      return { status: 202, body: answer };
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
    const known = ID_PATTERN.test(grantId) ? await this.grantRequest(grantId) : undefined;
    await this.access.assertMayRevoke(principal, grantId, known?.view, known?.entitlementId);
    checkId('id', grantId);
    const parsed = parseBody(RevokeBodySchema, body);
    if (!parsed.ok) throw invalidInput(parsed.errors);
    return this.endpoint.run({ principal, key, method: 'POST', route: `/v1/grants/${grantId}/revoke`, body, response }, async (ids) => {
      const revocationId = `rev-${ids.id('revocation-id')}`;
      const { eventId } = await this.commands.execute(
        new RequestRevocation(grantId, revocationId, ids.id('revocation-requested'), actorOf(principal), parsed.value, known?.view.requestId),
      );
      const answer: RevokeAccepted = { revocationId, grantId, status: 'revocation_requested', eventId };
      return { status: 202, body: answer };
    });
  }
}
