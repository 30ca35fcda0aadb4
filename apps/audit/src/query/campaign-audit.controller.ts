import { Controller, Get, Param, UseFilters, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { IdSchema } from '@grantline/contracts';
import { BearerAuthGuard, PROBLEMS, ProblemDetailsFilter, ProblemException, ProblemResponses, RequireRoles, ZodResponse } from '@grantline/http-edge';
import type { ViewOf } from '@grantline/http-edge';
import { RequireLoaded } from '@grantline/service-kit';
import { ReadModelStore } from '../persistence/read-model.store';
import { campaignProjection, countsOf } from '../projections/campaign.projection';
import { AuditCatchUp } from '../projector/audit-catch-up.service';
import { CampaignAuditViewSchema } from './audit-query.schema';

export type CampaignAuditView = ViewOf<typeof CampaignAuditViewSchema>;

/** A recertification campaign as the log recorded it: its items, what was decided, revoked and overdue. */
@ApiTags('audit')
@ApiBearerAuth()
@ProblemResponses([401, 'No bearer token, or one that does not verify'], [503, 'The read models are still catching up (`state-not-loaded`)'])
@Controller('v1/audit/campaigns')
@UseGuards(BearerAuthGuard, RequireLoaded(AuditCatchUp))
@UseFilters(ProblemDetailsFilter)
export class CampaignAuditController {
  constructor(private readonly store: ReadModelStore) {}

  @Get(':campaignId')
  @RequireRoles('auditor', 'security')
  @ApiOperation({ summary: 'One recertification campaign: items, decided, revoked, overdue, refused reviews' })
  @ApiParam({ name: 'campaignId' })
  @ZodResponse(200, CampaignAuditViewSchema, 'The campaign, its counts and each item')
  @ProblemResponses([403, 'Requires one of the roles auditor, security'], [404, 'No event of this campaign has been seen'])
  async campaign(@Param('campaignId') campaignId: string): Promise<CampaignAuditView> {
    const doc = IdSchema.safeParse(campaignId).success ? await this.store.load(campaignProjection, campaignId) : undefined;
    if (doc?.startedAt === undefined) throw ProblemException.of(PROBLEMS.notFound, `Unknown campaign ${campaignId}`);
    return {
      campaignId: doc.campaignId,
      ...(doc.definitionId !== undefined ? { definitionId: doc.definitionId } : {}),
      ...(doc.trigger !== undefined ? { trigger: doc.trigger } : {}),
      startedAt: doc.startedAt,
      ...(doc.dueAt !== undefined ? { dueAt: doc.dueAt } : {}),
      ...(doc.completedAt !== undefined ? { completedAt: doc.completedAt } : {}),
      counts: countsOf(doc),
      items: doc.items,
      blockedAttempts: doc.blockedAttempts.length,
    };
  }
}
