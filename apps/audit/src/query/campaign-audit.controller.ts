import { Controller, Get, Param, UseFilters, UseGuards } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { IdSchema } from '@grantline/contracts';
import { BearerAuthGuard, PROBLEMS, ProblemDetailsFilter, ProblemException, RequireRoles } from '@grantline/http-edge';
import { RequireLoaded } from '@grantline/service-kit';
import { ReadModelStore } from '../persistence/read-model.store';
import { campaignProjection, countsOf } from '../projections/campaign.projection';
import type { CampaignCounts, CampaignItemRecord } from '../projections/campaign.projection';
import { AuditCatchUp } from '../projector/audit-catch-up.service';

export interface CampaignAuditView {
  readonly campaignId: string;
  readonly definitionId?: string;
  readonly trigger?: string;
  readonly startedAt?: string;
  readonly dueAt?: string;
  readonly completedAt?: string;
  readonly counts: CampaignCounts;
  readonly items: readonly CampaignItemRecord[];
  readonly blockedAttempts: number;
}

/** A recertification campaign as the log recorded it: its items, what was decided, revoked and overdue. */
@ApiTags('audit')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ description: 'No bearer token, or one that does not verify' })
@Controller('v1/audit/campaigns')
@UseGuards(BearerAuthGuard, RequireLoaded(AuditCatchUp))
@UseFilters(ProblemDetailsFilter)
export class CampaignAuditController {
  constructor(private readonly store: ReadModelStore) {}

  @Get(':campaignId')
  @RequireRoles('auditor', 'security')
  @ApiOperation({ summary: 'One recertification campaign: items, decided, revoked, overdue, refused reviews' })
  @ApiParam({ name: 'campaignId' })
  @ApiOkResponse({ description: 'The campaign, its counts and each item' })
  @ApiNotFoundResponse({ description: 'No event of this campaign has been seen' })
  @ApiForbiddenResponse({ description: 'Requires one of the roles auditor, security' })
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
