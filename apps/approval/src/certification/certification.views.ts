import type { CertificationItem } from '@grantline/contracts';
import type { ViewOf } from '@grantline/http-edge';
import type { CampaignSummarySchema, CampaignViewSchema, ItemViewSchema, LineageSchema, PolicyDecisionTodaySchema } from './certification.schema';
import type { RequestApprovalState } from '../domain/approval.state';
import { countsOf } from './domain/certification.state';
import type { CampaignState, ItemState, PolicyToday } from './domain/certification.state';
import type { GrantFact } from './domain/grant-facts';
import type { RequestRecord } from './domain/people';

/**
 * Where a grant came from, as the approval service knows it: the request and its justification, the policy decision
 * at grant time (bundle digest, effect, reasons), who approved on what basis and when, earlier grants of the same
 * entitlement to the same holder (renewals), expiry changes and drift findings, and beside the decision at grant time
 * what today's bundle decides for the same input (`policyDecisionToday`, from the policy service). Last use is not
 * reported by any connector yet.
 */
export type Lineage = ViewOf<typeof LineageSchema>;

/**
 * Today's verdict for an item: `pending` until the policy service's `review-items-evaluated` for the campaign has
 * arrived; `evaluated` with the effect and reasons of today's bundle and whether the effect `changed` since grant
 * time; `unknown` when there was nothing to re-evaluate (no decision, a v1 record, a refusal) or it failed, with why.
 */
export type PolicyDecisionToday = ViewOf<typeof PolicyDecisionTodaySchema>;

export const policyDecisionTodayOf = (itemId: string, policyToday: PolicyToday | undefined): PolicyDecisionToday => {
  const answer = policyToday?.items.get(itemId);
  if (policyToday === undefined || answer === undefined) return { status: 'pending' };
  const { currentBundleDigest: bundleDigest, evaluatedAt } = policyToday;
  if (answer.outcome === 'unknown') return { status: 'unknown', bundleDigest, reason: answer.reason, detail: answer.detail, evaluatedAt };
  return { status: 'evaluated', bundleDigest, effect: answer.currentEffect, reasons: answer.currentReasons, changed: answer.changed, evaluatedAt };
};

export type ItemView = ViewOf<typeof ItemViewSchema>;
export type CampaignSummary = ViewOf<typeof CampaignSummarySchema>;
export type CampaignView = ViewOf<typeof CampaignViewSchema>;

export interface LineageSources {
  readonly grants: ReadonlyMap<string, GrantFact>;
  request(requestId: string): RequestRecord | undefined;
  approval(requestId: string): RequestApprovalState;
}

export const lineageOf = (item: CertificationItem, sources: LineageSources, policyToday?: PolicyToday): Lineage => {
  const grant = sources.grants.get(item.grantId);
  const submitted = sources.request(item.requestId);
  const approval = sources.approval(item.requestId);
  const decision = approval.decision;
  const renewals = [...sources.grants.values()]
    .filter((other) => other.grantId !== item.grantId && other.beneficiaryId === item.beneficiaryId && other.entitlementId === item.entitlementId)
    .sort((a, b) => a.createdAt.localeCompare(b.createdAt))
    .map((other) => ({ grantId: other.grantId, createdAt: other.createdAt, expiresAt: other.expiresAt, status: other.status }));
  return {
    request: {
      requestId: item.requestId,
      ...(submitted !== undefined
        ? {
            requesterId: submitted.requesterId,
            justification: submitted.justification,
            submittedAt: submitted.submittedAt,
            ...(submitted.ticket ? { ticket: submitted.ticket } : {}),
          }
        : approval.request !== undefined
          ? { requesterId: approval.request.requesterId }
          : {}),
    },
    ...(decision !== undefined
      ? {
          policyDecision: {
            decisionId: decision.data.decisionId,
            effect: decision.data.effect,
            bundleDigest: decision.data.bundleDigest,
            reasons: decision.data.reasons,
            matchedRules: decision.data.matchedRules,
            riskScore: decision.data.risk.score,
            decidedAt: decision.time,
          },
        }
      : {}),
    policyDecisionToday: policyDecisionTodayOf(item.itemId, policyToday),
    approvals: approval.tasks.flatMap((task) =>
      task.decisions.map((d) => ({ stageId: task.stageId, approverId: d.approverId, decision: d.decision, decidedAt: d.decidedAt })),
    ),
    ...(approval.outcome !== undefined ? { outcome: approval.outcome } : {}),
    ...(grant !== undefined
      ? {
          grant: {
            createdAt: grant.createdAt,
            ...(grant.activatedAt !== undefined ? { activatedAt: grant.activatedAt } : {}),
            expiresAt: grant.expiresAt,
            breakGlass: grant.breakGlass,
            expiryChanges: grant.expiryChanges,
          },
        }
      : {}),
    renewals,
    driftFindings: grant?.driftFindings ?? [],
    lastUse: 'not_reported',
  };
};

export const itemViewOf = (campaignId: string, item: ItemState, sources: LineageSources, policyToday?: PolicyToday): ItemView => ({
  ...item.item,
  campaignId,
  status: item.status,
  currentReviewerIds: item.reviewerIds,
  dueAt: item.dueAt,
  escalated: item.escalated,
  ...(item.answer !== undefined ? { answer: item.answer } : {}),
  lineage: lineageOf(item.item, sources, policyToday),
});

export const summaryOf = (state: CampaignState): CampaignSummary | undefined => {
  const { campaign } = state;
  if (!campaign) return undefined;
  return {
    campaignId: campaign.campaignId,
    definitionId: campaign.definitionId,
    trigger: campaign.trigger,
    status: state.completedAt !== undefined ? 'completed' : 'open',
    startedAt: campaign.startedAt,
    dueAt: campaign.dueAt,
    ...(state.completedAt !== undefined ? { completedAt: state.completedAt } : {}),
    counts: countsOf(state),
    blockedAttempts: state.blockedAttempts,
  };
};
