import { Body, Controller, Get, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import type { Command } from '@nestjs/cqrs';
import {
  BearerAuthGuard,
  CurrentPrincipal,
  PROBLEMS,
  ProblemException,
  ProblemResponses,
  RequireRoles,
  ZodBody,
  ZodResponse,
  concealed,
  fieldErrorsOf,
  forbidden,
  hasAnyRole,
  invalidInput,
} from '@grantline/http-edge';
import type { Principal, ProblemType, ViewOf } from '@grantline/http-edge';
import { RequireLoaded } from '@grantline/service-kit';
import { ApprovalStateService } from '../approvals/approval-state.service';
import { CertificationRefused } from './domain/certification.commands';
import type { CampaignState, ItemState } from './domain/certification.state';
import { DecideItem, StartCampaign } from './certification-commands';
import { CertificationStateService } from './certification-state.service';
import {
  CampaignListSchema,
  CampaignViewSchema,
  ItemDecisionBodySchema,
  ItemDecisionResponseSchema,
  ItemListSchema,
  StartCampaignBodySchema,
} from './certification.schema';
import { itemViewOf, summaryOf } from './certification.views';
import type { CampaignView, ItemView, LineageSources } from './certification.views';

const ITEM_CLOSED: ProblemType = { slug: 'item_closed', status: 409, title: 'The review item is closed' };
const LOG_UNAVAILABLE: ProblemType = { slug: 'log_unavailable', status: 503, title: 'The event log is unavailable' };
const SEES_EVERY_CAMPAIGN = ['security', 'auditor', 'admin'] as const;

const unknownCampaign = (campaignId: string): string => `no campaign ${campaignId}`;
const unknownItem = (itemId: string): string => `no review item ${itemId}`;

/** Whoever may answer the item now, or answered it. */
const reviews = (item: ItemState, identityId: string): boolean => item.reviewerIds.includes(identityId) || item.answer?.reviewerId === identityId;

export type ItemDecisionResponse = ViewOf<typeof ItemDecisionResponseSchema>;
type CampaignList = ViewOf<typeof CampaignListSchema>;
type ItemList = ViewOf<typeof ItemListSchema>;

/**
 * Recertification over HTTP: security (or an administrator) starts a campaign of a definition; reviewers list their
 * open items with each grant's lineage and answer them; security and auditors read every campaign, a reviewer the
 * items that are theirs. Every route authenticates and authorizes before it reads the body; a reviewer who may not
 * answer an item they are related to (their own access, their NHI, access they asked for) is recorded and refused.
 */
@Controller('v1')
@UseGuards(BearerAuthGuard, RequireLoaded(CertificationStateService), RequireLoaded(ApprovalStateService))
export class CampaignsController {
  constructor(
    private readonly certification: CertificationStateService,
    private readonly approvals: ApprovalStateService,
    private readonly commands: CommandBus,
  ) {}

  @Post('campaigns')
  @HttpCode(201)
  @RequireRoles('security', 'admin')
  @ZodBody(StartCampaignBodySchema)
  @ZodResponse(201, CampaignViewSchema, 'The campaign started, with every review item and its lineage')
  @ProblemResponses(400, 401, 403, 503)
  async start(@Body() body: unknown, @CurrentPrincipal() principal: Principal): Promise<CampaignView> {
    const parsed = StartCampaignBodySchema.safeParse(body ?? {});
    if (!parsed.success) throw invalidInput(fieldErrorsOf(parsed.error), PROBLEMS.invalidBody);
    const { definitionId } = parsed.data;
    if (!this.certification.config.definitions.has(definitionId)) {
      throw invalidInput([{ field: 'definitionId', message: `no campaign definition ${definitionId} (catalog/campaigns)` }], PROBLEMS.invalidBody);
    }
    await this.certification.whenLoaded();
    const state = await this.execute(principal, definitionId, new StartCampaign(definitionId, 'on_demand', { startedBy: principal.subject }));
    return this.viewOf(state, () => true);
  }

  @Get('campaigns')
  @RequireRoles(...SEES_EVERY_CAMPAIGN)
  @ZodResponse(200, CampaignListSchema, 'Every campaign, newest first')
  @ProblemResponses(401, 403, 503)
  async list(): Promise<CampaignList> {
    await this.certification.whenLoaded();
    const campaigns = [...this.certification.campaigns().values()].flatMap((state) => summaryOf(state) ?? []);
    return { campaigns: campaigns.sort((a, b) => b.startedAt.localeCompare(a.startedAt) || a.campaignId.localeCompare(b.campaignId)) };
  }

  /** Security, auditors and administrators see every item; a reviewer the items that are theirs; anyone else a 404. */
  @Get('campaigns/:campaignId')
  @ZodResponse(200, CampaignViewSchema, 'The campaign with the items the caller may see')
  @ProblemResponses(401, 404, 503)
  async campaign(@Param('campaignId') campaignId: string, @CurrentPrincipal() principal: Principal): Promise<CampaignView> {
    await this.certification.whenLoaded();
    const state = this.certification.stateOf(campaignId);
    const ref = `campaign:${campaignId}`;
    if (!state.campaign) throw concealed(principal, ref, unknownCampaign(campaignId), 'unknown campaign');
    if (hasAnyRole(principal, [...SEES_EVERY_CAMPAIGN])) return this.viewOf(state, () => true);
    const mine = (item: ItemState): boolean => reviews(item, principal.subject);
    if (![...state.items.values()].some(mine)) throw concealed(principal, ref, unknownCampaign(campaignId), 'not a reviewer of any item of the campaign');
    return this.viewOf(state, mine);
  }

  /** The caller's open review items, across campaigns, oldest due first. */
  @Get('certifications')
  @RequireRoles('member')
  @ZodResponse(200, ItemListSchema, "The caller's open review items, oldest due first, each with its grant's lineage")
  @ProblemResponses(401, 403, 503)
  async mine(@CurrentPrincipal() principal: Principal): Promise<ItemList> {
    await this.certification.whenLoaded();
    const items: ItemView[] = [];
    for (const [campaignId, state] of this.certification.campaigns()) {
      for (const item of state.items.values()) {
        if (item.status === 'open' && item.reviewerIds.includes(principal.subject)) items.push(itemViewOf(campaignId, item, this.sources(), state.policyToday));
      }
    }
    return { items: items.sort((a, b) => a.dueAt.localeCompare(b.dueAt) || a.itemId.localeCompare(b.itemId)) };
  }

  @Post('campaigns/:campaignId/items/:itemId')
  @HttpCode(200)
  @RequireRoles('member')
  @ZodBody(ItemDecisionBodySchema)
  @ZodResponse(200, ItemDecisionResponseSchema, 'The answer as recorded, and whether the campaign is now complete')
  @ProblemResponses(
    400,
    401,
    [403, 'Related to the item but not its reviewer (their own access, their NHI): recorded'],
    404,
    [409, 'The review item is closed'],
    503,
  )
  async decide(
    @Param('campaignId') campaignId: string,
    @Param('itemId') itemId: string,
    @Body() body: unknown,
    @CurrentPrincipal() principal: Principal,
  ): Promise<ItemDecisionResponse> {
    await this.certification.whenLoaded();
    const reviewerId = principal.subject;
    const state = this.certification.stateOf(campaignId);
    const item = state.items.get(itemId);
    const ref = `item:${itemId}`;
    if (!state.campaign || !item) throw concealed(principal, ref, unknownItem(itemId), 'unknown review item');
    if (!reviews(item, reviewerId)) {
      const definition = this.certification.config.definitions.get(state.campaign.definitionId);
      const relation = this.certification.relationTo(reviewerId, item.item, definition?.reviewer.kind === 'nhi_owner');
      if (relation === undefined) throw concealed(principal, ref, unknownItem(itemId), 'neither a reviewer of the item nor related to it');
      // Related but not a reviewer (their own access, their NHI): the decider records the attempt and refuses it.
      await this.execute(principal, itemId, new DecideItem(campaignId, itemId, reviewerId, 'certify'));
    }
    const parsed = ItemDecisionBodySchema.safeParse(body ?? {});
    if (!parsed.success) throw invalidInput(fieldErrorsOf(parsed.error), PROBLEMS.invalidBody);
    const { decision, newExpiresAt, comment } = parsed.data;
    const extra = { ...(newExpiresAt !== undefined ? { newExpiresAt } : {}), ...(comment !== undefined ? { comment } : {}) };
    const answer = await this.execute(principal, itemId, new DecideItem(campaignId, itemId, reviewerId, decision, extra));
    return { campaignId, itemId, decision, recorded: answer.recorded, campaignStatus: answer.state.completedAt !== undefined ? 'completed' : 'open' };
  }

  private sources(): LineageSources {
    return {
      grants: this.certification.grants(),
      request: (requestId) => this.certification.request(requestId),
      approval: (requestId) => this.approvals.stateOf(requestId),
    };
  }

  private viewOf(state: CampaignState, include: (item: ItemState) => boolean): CampaignView {
    const summary = summaryOf(state);
    if (!summary) throw new Error('a started campaign has a summary');
    const sources = this.sources();
    return { ...summary, items: [...state.items.values()].filter(include).map((item) => itemViewOf(summary.campaignId, item, sources, state.policyToday)) };
  }

  private async execute<TResult>(principal: Principal, objectId: string, command: Command<TResult>): Promise<TResult> {
    try {
      return await this.commands.execute(command);
    } catch (error) {
      if (error instanceof CertificationRefused) throw this.problemOf(error, principal, objectId);
      throw ProblemException.of(LOG_UNAVAILABLE, `nothing was recorded: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  private problemOf(error: CertificationRefused, principal: Principal, objectId: string): Error {
    switch (error.rejection) {
      case 'self_review':
      case 'not_a_reviewer':
        return forbidden(principal, error.message, `item:${objectId}`);
      case 'unknown_item':
        return concealed(principal, `item:${objectId}`, unknownItem(objectId), 'unknown review item');
      case 'item_closed':
        return ProblemException.of(ITEM_CLOSED, error.message);
      case 'invalid_expiry':
      case 'unknown_campaign':
        return invalidInput([{ field: error.field ?? '(body)', message: error.message }], PROBLEMS.invalidBody);
    }
  }
}
