import { Controller, Get, Query, Res, UseFilters, UseGuards } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiForbiddenResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiQuery,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { EvidenceQuerySchema, MAX_EVIDENCE_PERIOD_DAYS, renderEvidenceMarkdown } from '@grantline/evidence';
import type { EvidencePack } from '@grantline/evidence';
import { BearerAuthGuard, PROBLEMS, ProblemDetailsFilter, RequireRoles, fieldErrorsOf, invalidInput } from '@grantline/http-edge';
import { EvidencePackDto } from './evidence.dto';
import { EvidenceService } from './evidence.service';

interface ResponseLike {
  setHeader(name: string, value: string): unknown;
}

/**
 * Compliance evidence for a period (NIST SP 800-53 AC-2/AC-5/AC-6, NIST CSF 2.0 PR.AA, OWASP NHI Top 10), each
 * line linked to the events on the log that prove it. Auditors and security read it (the same roles that read
 * every audit record); authorization comes before validation, so a refused caller learns nothing of the query.
 */
@ApiTags('audit')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ description: 'No bearer token, or one that does not verify' })
@Controller('v1/audit')
@UseGuards(BearerAuthGuard)
@UseFilters(ProblemDetailsFilter)
export class EvidenceController {
  constructor(private readonly evidence: EvidenceService) {}

  @Get('evidence')
  @RequireRoles('auditor', 'security')
  @ApiOperation({
    summary: 'The compliance evidence pack of a period, each control line linked to the events that prove it',
    description:
      'Replays the lifecycle topics from the beginning (facts before the period matter) and reports on the period: status (satisfied / finding / not observable, with the reason), count and lines with their event links (CloudEvent id, type, topic/partition/offset).',
  })
  @ApiQuery({ name: 'from', required: true, description: 'Start of the period (ISO-8601 with a time zone)' })
  @ApiQuery({ name: 'to', required: true, description: `End of the period, after from, at most ${MAX_EVIDENCE_PERIOD_DAYS} days later` })
  @ApiQuery({ name: 'format', required: false, enum: ['json', 'md'], description: 'json (default) or md (text/markdown)' })
  @ApiProduces('application/json', 'text/markdown')
  @ApiOkResponse({ type: EvidencePackDto })
  @ApiBadRequestResponse({ description: 'from or to missing or invalid, to not after from, a period too long, an unknown format or parameter' })
  @ApiForbiddenResponse({ description: 'Requires one of the roles auditor, security' })
  async pack(@Query() query: Record<string, unknown>, @Res({ passthrough: true }) response: ResponseLike): Promise<EvidencePack | string> {
    const parsed = EvidenceQuerySchema.safeParse(query);
    if (!parsed.success) throw invalidInput(fieldErrorsOf(parsed.error, { root: '(query)' }), PROBLEMS.invalidQuery);
    const { from, to, format } = parsed.data;
    const pack = await this.evidence.pack({ from, to });
    if (format === 'json') return pack;
    response.setHeader('Content-Type', 'text/markdown; charset=utf-8');
    return renderEvidenceMarkdown(pack);
  }
}
