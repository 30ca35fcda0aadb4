import { Controller, Get, Param, Query, UseFilters } from '@nestjs/common';
import { ApiBadRequestResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiParam, ApiQuery, ApiTags } from '@nestjs/swagger';
import { IdSchema } from '@grantline/contracts';
import { PROBLEMS, ProblemDetailsFilter, ProblemException, fieldErrorsOf, invalidInput } from '@grantline/http-edge';
import { GrantExplanationDto, GrantListDto, RequestTimelineDto } from './audit-query.dto';
import { AuditQueryService, GrantsQuerySchema } from './audit-query.service';
import type { GrantExplanationView, GrantListView, RequestTimelineView } from './audit-query.service';

function validId(name: string, raw: string): string {
  const parsed = IdSchema.safeParse(raw);
  if (!parsed.success) throw invalidInput(fieldErrorsOf(parsed.error, { root: name }), PROBLEMS.invalidRequest);
  return parsed.data;
}

const notFound = (detail: string): ProblemException => ProblemException.of(PROBLEMS.notFound, detail);

@ApiTags('audit')
@Controller('v1/audit')
@UseFilters(ProblemDetailsFilter)
export class AuditQueryController {
  constructor(private readonly queries: AuditQueryService) {}

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
  @ApiOkResponse({ type: GrantListDto })
  @ApiBadRequestResponse({ description: 'Neither subjectId nor entitlementId given, or an invalid one' })
  async grants(@Query() query: Record<string, unknown>): Promise<GrantListView> {
    const parsed = GrantsQuerySchema.safeParse(query);
    if (!parsed.success) throw invalidInput(fieldErrorsOf(parsed.error, { root: '(query)' }), PROBLEMS.invalidQuery);
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
}
