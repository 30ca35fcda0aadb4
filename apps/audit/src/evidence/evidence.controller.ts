import { Controller, Get, Query, Res, UseFilters, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { EvidenceQuerySchema, MAX_EVIDENCE_PERIOD_DAYS, renderEvidenceMarkdown } from '@grantline/evidence';
import {
  BearerAuthGuard,
  PROBLEMS,
  ProblemDetailsFilter,
  ProblemResponses,
  RequireRoles,
  ZodQuery,
  fieldErrorsOf,
  invalidInput,
  openApiSchemaOf,
} from '@grantline/http-edge';
import type { ViewOf } from '@grantline/http-edge';
import { EvidencePackSchema } from './evidence-pack.schema';
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
@ProblemResponses([401, 'No bearer token, or one that does not verify'])
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
  @ZodQuery(EvidenceQuerySchema)
  @ApiResponse({
    status: 200,
    description: `The pack of the period (at most ${MAX_EVIDENCE_PERIOD_DAYS} days): JSON, or Markdown with format=md`,
    content: { 'application/json': { schema: openApiSchemaOf(EvidencePackSchema) }, 'text/markdown': { schema: openApiSchemaOf(z.string()) } },
  })
  @ProblemResponses(
    [400, 'from or to missing or invalid, to not after from, a period too long, an unknown format or parameter'],
    [403, 'Requires one of the roles auditor, security'],
  )
  async pack(@Query() query: Record<string, unknown>, @Res({ passthrough: true }) response: ResponseLike): Promise<ViewOf<typeof EvidencePackSchema> | string> {
    const parsed = EvidenceQuerySchema.safeParse(query);
    if (!parsed.success) throw invalidInput(fieldErrorsOf(parsed.error, { root: '(query)' }), PROBLEMS.invalidQuery);
    const { from, to, format } = parsed.data;
    const pack = await this.evidence.pack({ from, to });
    if (format === 'json') return pack;
    response.setHeader('Content-Type', 'text/markdown; charset=utf-8');
    return renderEvidenceMarkdown(pack);
  }
}
