import type { CertificationItem } from '@grantline/contracts';
import type { RequestApprovalState } from '../domain/approval.state';
import { countsOf } from './domain/certification.state';
import type { CampaignCounts, CampaignState, ItemAnswer, ItemState, PolicyToday } from './domain/certification.state';
import type { GrantFact } from './domain/grant-facts';
import type { RequestRecord } from './domain/people';

/**
 * Where a grant came from, as the approval service knows it: the request and its justification, the policy decision
 * at grant time (bundle digest, effect, reasons), who approved on what basis and when, earlier grants of the same
 * entitlement to the same holder (renewals), expiry changes and drift findings, and beside the decision at grant time
 * what today's bundle decides for the same input (`policyDecisionToday`, from the policy service). Last use is not
 * reported by any connector yet.
 */
export interface Lineage {
  readonly request?: {
    readonly requestId: string;
    readonly requesterId?: string;
    readonly justification?: string;
    readonly submittedAt?: string;
    readonly ticket?: RequestRecord['ticket'];
  };
  readonly policyDecision?: {
    readonly decisionId: string;
    readonly effect: string;
    readonly bundleDigest: string;
    readonly reasons: readonly string[];
    readonly matchedRules: readonly string[];
    readonly riskScore: number;
    readonly decidedAt: string;
  };
  /** What the bundle active now decides for the input recorded at grant time (`pending` until policy has answered). */
  readonly policyDecisionToday: PolicyDecisionToday;
  readonly approvals: readonly { readonly stageId: string; readonly approverId: string; readonly decision: string; readonly decidedAt: string }[];
  readonly outcome?: string;
  readonly grant?: {
    readonly createdAt: string;
    readonly activatedAt?: string;
    readonly expiresAt: string;
    readonly breakGlass: boolean;
    readonly expiryChanges: GrantFact['expiryChanges'];
  };
  readonly renewals: readonly { readonly grantId: string; readonly createdAt: string; readonly expiresAt: string; readonly status: string }[];
  readonly driftFindings: GrantFact['driftFindings'];
  readonly lastUse: 'not_reported';
}

/**
 * Today's verdict for an item: `pending` until the policy service's `review-items-evaluated` for the campaign has
 * arrived; `evaluated` with the effect and reasons of today's bundle and whether the effect `changed` since grant
 * time; `unknown` when there was nothing to re-evaluate (no decision, a v1 record, a refusal) or it failed, with why.
 */
export type PolicyDecisionToday =
  | { readonly status: 'pending' }
  | {
      readonly status: 'evaluated';
      readonly bundleDigest: string;
      readonly effect: string;
      readonly reasons: readonly string[];
      readonly changed: boolean;
      readonly evaluatedAt: string;
    }
  | { readonly status: 'unknown'; readonly bundleDigest: string; readonly reason: string; readonly detail: string; readonly evaluatedAt: string };

export const policyDecisionTodayOf = (itemId: string, policyToday: PolicyToday | undefined): PolicyDecisionToday => {
  const answer = policyToday?.items.get(itemId);
  if (policyToday === undefined || answer === undefined) return { status: 'pending' };
  const { currentBundleDigest: bundleDigest, evaluatedAt } = policyToday;
  if (answer.outcome === 'unknown') return { status: 'unknown', bundleDigest, reason: answer.reason, detail: answer.detail, evaluatedAt };
  return { status: 'evaluated', bundleDigest, effect: answer.currentEffect, reasons: answer.currentReasons, changed: answer.changed, evaluatedAt };
};

export interface ItemView extends CertificationItem {
  readonly campaignId: string;
  readonly status: ItemState['status'];
  readonly currentReviewerIds: readonly string[];
  readonly dueAt: string;
  readonly escalated: boolean;
  readonly answer?: ItemAnswer;
  readonly lineage: Lineage;
}

export interface CampaignSummary {
  readonly campaignId: string;
  readonly definitionId: string;
  readonly trigger: string;
  readonly status: 'open' | 'completed';
  readonly startedAt: string;
  readonly dueAt: string;
  readonly completedAt?: string;
  readonly counts: CampaignCounts;
  readonly blockedAttempts: number;
}

export interface CampaignView extends CampaignSummary {
  readonly items: ItemView[];
}

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
