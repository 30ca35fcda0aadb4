import { Controller, Get, Inject, Optional, Param, Query, UseFilters, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { IdSchema } from '@grantline/contracts';
import {
  BearerAuthGuard,
  CurrentPrincipal,
  PROBLEMS,
  ProblemDetailsFilter,
  ProblemException,
  ProblemResponses,
  RequireRoles,
  ZodQuery,
  ZodResponse,
  fieldErrorsOf,
  invalidInput,
} from '@grantline/http-edge';
import type { Principal } from '@grantline/http-edge';
import { CLOCK, RequireLoaded } from '@grantline/service-kit';
import { systemClock } from '@grantline/decider';
import type { Clock } from '@grantline/decider';
import { AuditAccess } from '../authorization/audit-access.service';
import { AuditCatchUp } from '../projector/audit-catch-up.service';
import {
  AccessDenialListViewSchema,
  CurrentDriftViewSchema,
  GrantExplanationViewSchema,
  GrantListViewSchema,
  ReconciliationListViewSchema,
  RequestTimelineViewSchema,
} from './audit-query.schema';
import {
  ACCESS_DENIALS_LIMIT,
  AccessDenialsQuerySchema,
  AuditQueryService,
  ConnectorQuerySchema,
  GrantsQuerySchema,
  RECONCILIATIONS_LIMIT,
} from './audit-query.service';
import type {
  AccessDenialListView,
  ConnectorQuery,
  CurrentDriftView,
  GrantExplanationView,
  GrantListView,
  ReconciliationListView,
  RequestTimelineView,
} from './audit-query.service';

function validId(name: string, raw: string): string {
  const parsed = IdSchema.safeParse(raw);
  if (!parsed.success) throw invalidInput(fieldErrorsOf(parsed.error, { root: name }), PROBLEMS.invalidRequest);
  return parsed.data;
}

function connectorQuery(query: Record<string, unknown>): ConnectorQuery {
  const parsed = ConnectorQuerySchema.safeParse(query);
  if (!parsed.success) throw invalidInput(fieldErrorsOf(parsed.error, { root: '(query)' }), PROBLEMS.invalidQuery);
  return parsed.data;
}

const notFound = (detail: string): ProblemException => ProblemException.of(PROBLEMS.notFound, detail);

/** An id that fails validation names no record, so for a caller who must not probe it is simply unknown. */
const isValidId = (raw: string): boolean => IdSchema.safeParse(raw).success;

/** Where the query API reads the current time (to refuse an `asOf` in the future); specs pass a fixed one. */

/**
 * Every route needs a bearer token (401 otherwise). Object-level rules live in AuditAccess; role-only routes
 * declare `@RequireRoles`. Authorization comes before validation, so a refused caller gets its 403/404, not a 400.
 */
@ApiTags('audit')
@ApiBearerAuth()
@ProblemResponses([401, 'No bearer token, or one that does not verify'], [503, 'The read models are still catching up (`state-not-loaded`)'])
@Controller('v1/audit')
// Until the catch-up replay is done the read models are partial: 503, not an incomplete answer.
@UseGuards(BearerAuthGuard, RequireLoaded(AuditCatchUp))
@UseFilters(ProblemDetailsFilter)
export class AuditQueryController {
  constructor(
    private readonly queries: AuditQueryService,
    private readonly access: AuditAccess,
    @Optional() @Inject(CLOCK) private readonly clock: Clock = systemClock,
  ) {}

  @Get('requests/:requestId/timeline')
  @ApiOperation({
    summary: 'Every event of one request, in order, with actor and time',
    description: "Auditor, security; a member who is the request's requester, its beneficiary, or the beneficiary's manager or owner of record",
  })
  @ApiParam({ name: 'requestId' })
  @ZodResponse(200, RequestTimelineViewSchema, 'Every event of the request, in order')
  @ProblemResponses([400, 'An invalid requestId'], [404, 'No event of this request has been seen, or the caller may not see it (the same answer)'])
  async timeline(@CurrentPrincipal() principal: Principal, @Param('requestId') requestId: string): Promise<RequestTimelineView> {
    if (this.access.readsAll(principal)) {
      const view = await this.queries.timeline(validId('requestId', requestId));
      if (view === undefined) throw notFound(`Unknown request ${requestId}`);
      return view;
    }
    return this.access.assertTimelineVisible(principal, requestId, isValidId(requestId) ? await this.queries.timeline(requestId) : undefined);
  }

  @Get('grants')
  @ApiOperation({
    summary: 'Who has access: current grants of a subject, or of an entitlement',
    description: 'Auditor, security: any subject or entitlement. A member: subjectId = themselves, a person they manage or a non-human identity they own',
  })
  @ZodQuery(GrantsQuerySchema)
  @ZodResponse(200, GrantListViewSchema, 'The grants held (or, with asOf, held then)')
  @ProblemResponses(
    [400, 'Neither subjectId nor entitlementId given, an invalid one, or an asOf in the future'],
    [403, 'A member asking about anyone but themselves, a person they manage or an NHI they own, or by entitlement'],
  )
  async grants(@CurrentPrincipal() principal: Principal, @Query() query: Record<string, unknown>): Promise<GrantListView> {
    await this.access.assertMayListGrants(principal, query);
    const parsed = GrantsQuerySchema.safeParse(query);
    if (!parsed.success) throw invalidInput(fieldErrorsOf(parsed.error, { root: '(query)' }), PROBLEMS.invalidQuery);
    const { asOf } = parsed.data;
    if (asOf !== undefined && Date.parse(asOf) > this.clock.now().getTime()) {
      // A future instant would be a forecast (expiries not yet happened), not evidence.
      throw invalidInput([{ field: 'asOf', message: 'must not be in the future: omit it for the access held now' }], PROBLEMS.invalidQuery);
    }
    return this.queries.grants(parsed.data);
  }

  @Get('grants/:grantId/explain')
  @ApiOperation({
    summary: 'Explain a grant: request → policy decision → approvals → provisioning → expiry or revocation',
    description: "Auditor, security; a member who is the grant's beneficiary, its request's requester, or the beneficiary's manager or owner of record",
  })
  @ApiParam({ name: 'grantId' })
  @ZodResponse(200, GrantExplanationViewSchema, 'The chain from request to ending, with the links not seen yet')
  @ProblemResponses([400, 'An invalid grantId'], [404, 'No event of this grant has been seen, or the caller may not see it (the same answer)'])
  async explain(@CurrentPrincipal() principal: Principal, @Param('grantId') grantId: string): Promise<GrantExplanationView> {
    if (this.access.readsAll(principal)) {
      const view = await this.queries.explain(validId('grantId', grantId));
      if (view === undefined) throw notFound(`Unknown grant ${grantId}`);
      return view;
    }
    return this.access.assertExplanationVisible(principal, grantId, isValidId(grantId) ? await this.queries.explain(grantId) : undefined);
  }

  @Get('reconciliations')
  @RequireRoles('auditor', 'security', 'operator')
  @ApiOperation({ summary: `Reconciliations of a connector's target against its grants, newest first (at most ${RECONCILIATIONS_LIMIT})` })
  @ZodQuery(ConnectorQuerySchema)
  @ZodResponse(200, ReconciliationListViewSchema, 'The reconciliations, newest first')
  @ProblemResponses([400, 'connectorId missing or invalid'], [403, 'Requires one of the roles auditor, security, operator'])
  async reconciliations(@Query() query: Record<string, unknown>): Promise<ReconciliationListView> {
    return this.queries.reconciliations(connectorQuery(query));
  }

  @Get('drift')
  @RequireRoles('auditor', 'security', 'operator')
  @ApiOperation({ summary: "The drift in a connector's target as last observed: the findings of its latest completed reconciliation" })
  @ZodQuery(ConnectorQuerySchema)
  @ZodResponse(200, CurrentDriftViewSchema, 'The findings of the latest completed reconciliation')
  @ProblemResponses(
    [400, 'connectorId missing or invalid'],
    [403, 'Requires one of the roles auditor, security, operator'],
    [404, 'No completed reconciliation of this connector has been seen'],
  )
  async drift(@Query() query: Record<string, unknown>): Promise<CurrentDriftView> {
    const connector = connectorQuery(query);
    const view = await this.queries.currentDrift(connector);
    if (view === undefined) throw notFound(`No completed reconciliation of connector ${connector.connectorId}`);
    return view;
  }

  @Get('access-denials')
  @RequireRoles('auditor', 'security')
  @ApiOperation({ summary: `Refused API calls of every service (403, or a 404 that hid the object), newest first (at most ${ACCESS_DENIALS_LIMIT})` })
  @ZodQuery(AccessDenialsQuerySchema)
  @ZodResponse(200, AccessDenialListViewSchema, 'The refusals, newest first')
  @ProblemResponses([400, 'An invalid principalId or service, or an unknown parameter'], [403, 'Requires one of the roles auditor, security'])
  async accessDenials(@Query() query: Record<string, unknown>): Promise<AccessDenialListView> {
    const parsed = AccessDenialsQuerySchema.safeParse(query);
    if (!parsed.success) throw invalidInput(fieldErrorsOf(parsed.error, { root: '(query)' }), PROBLEMS.invalidQuery);
    return this.queries.accessDenials(parsed.data);
  }
}
