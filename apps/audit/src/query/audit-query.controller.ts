import { Controller, Get, Inject, Optional, Param, Query, UseFilters } from '@nestjs/common';
import { ApiBadRequestResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiParam, ApiQuery, ApiTags } from '@nestjs/swagger';
import { IdSchema } from '@grantline/contracts';
import { PROBLEMS, ProblemDetailsFilter, ProblemException, fieldErrorsOf, invalidInput } from '@grantline/http-edge';
import { CurrentDriftDto, GrantExplanationDto, GrantListDto, ReconciliationListDto, RequestTimelineDto } from './audit-query.dto';
import { AuditQueryService, ConnectorQuerySchema, GrantsQuerySchema, RECONCILIATIONS_LIMIT } from './audit-query.service';
import type { ConnectorQuery, CurrentDriftView, GrantExplanationView, GrantListView, ReconciliationListView, RequestTimelineView } from './audit-query.service';

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

/** Where the query API reads the current time (to refuse an `asOf` in the future); specs pass a fixed one. */
export const AUDIT_CLOCK = Symbol('AUDIT_CLOCK');
export type AuditClock = () => Date;

@ApiTags('audit')
@Controller('v1/audit')
@UseFilters(ProblemDetailsFilter)
export class AuditQueryController {
  constructor(
    private readonly queries: AuditQueryService,
    @Optional() @Inject(AUDIT_CLOCK) private readonly clock: AuditClock = () => new Date(),
  ) {}

  @Get('requests/:requestId/timeline')
  @ApiOperation({ summary: 'Every event of one request, in order, with actor and time' })
  @ApiParam({ name: 'requestId' })
  @ApiOkResponse({ type: RequestTimelineDto })
  @ApiNotFoundResponse({ description: 'No event of this request has been seen' })
  async timeline(@Param('requestId') requestId: string): Promise<RequestTimelineView> {
    const view = await this.queries.timeline(validId('requestId', requestId));
    if (view === undefined) throw notFound(`Unknown request ${requestId}`);
    return view;
  }

  @Get('grants')
  @ApiOperation({ summary: 'Who has access: current grants of a subject, or of an entitlement' })
  @ApiQuery({ name: 'subjectId', required: false, description: 'The identity holding the grants' })
  @ApiQuery({ name: 'entitlementId', required: false })
  @ApiQuery({ name: 'includeEnded', required: false, enum: ['true', 'false'], description: 'Also list revoked and failed grants' })
  @ApiQuery({
    name: 'asOf',
    required: false,
    description:
      'Who had access at this past instant (ISO-8601 with offset): grants the target confirmed at or before it and whose removal was not confirmed at or before it',
  })
  @ApiOkResponse({ type: GrantListDto })
  @ApiBadRequestResponse({ description: 'Neither subjectId nor entitlementId given, an invalid one, or an asOf in the future' })
  async grants(@Query() query: Record<string, unknown>): Promise<GrantListView> {
    const parsed = GrantsQuerySchema.safeParse(query);
    if (!parsed.success) throw invalidInput(fieldErrorsOf(parsed.error, { root: '(query)' }), PROBLEMS.invalidQuery);
    const { asOf } = parsed.data;
    if (asOf !== undefined && Date.parse(asOf) > this.clock().getTime()) {
      // A future instant would be a forecast (expiries not yet happened), not evidence.
      throw invalidInput([{ field: 'asOf', message: 'must not be in the future: omit it for the access held now' }], PROBLEMS.invalidQuery);
    }
    return this.queries.grants(parsed.data);
  }

  @Get('grants/:grantId/explain')
  @ApiOperation({ summary: 'Explain a grant: request → policy decision → approvals → provisioning → expiry or revocation' })
  @ApiParam({ name: 'grantId' })
  @ApiOkResponse({ type: GrantExplanationDto })
  @ApiNotFoundResponse({ description: 'No event of this grant has been seen' })
  async explain(@Param('grantId') grantId: string): Promise<GrantExplanationView> {
    const view = await this.queries.explain(validId('grantId', grantId));
    if (view === undefined) throw notFound(`Unknown grant ${grantId}`);
    return view;
  }

  @Get('reconciliations')
  @ApiOperation({ summary: `Reconciliations of a connector's target against its grants, newest first (at most ${RECONCILIATIONS_LIMIT})` })
  @ApiQuery({ name: 'connectorId', required: true, description: 'The connector whose target was reconciled' })
  @ApiOkResponse({ type: ReconciliationListDto })
  @ApiBadRequestResponse({ description: 'connectorId missing or invalid' })
  async reconciliations(@Query() query: Record<string, unknown>): Promise<ReconciliationListView> {
    return this.queries.reconciliations(connectorQuery(query));
  }

  @Get('drift')
  @ApiOperation({ summary: "The drift in a connector's target as last observed: the findings of its latest completed reconciliation" })
  @ApiQuery({ name: 'connectorId', required: true, description: 'The connector whose target was reconciled' })
  @ApiOkResponse({ type: CurrentDriftDto })
  @ApiBadRequestResponse({ description: 'connectorId missing or invalid' })
  @ApiNotFoundResponse({ description: 'No completed reconciliation of this connector has been seen' })
  async drift(@Query() query: Record<string, unknown>): Promise<CurrentDriftView> {
    const connector = connectorQuery(query);
    const view = await this.queries.currentDrift(connector);
    if (view === undefined) throw notFound(`No completed reconciliation of connector ${connector.connectorId}`);
    return view;
  }
}
