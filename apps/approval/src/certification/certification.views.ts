import type { CertificationItem } from '@grantline/contracts';
import type { RequestApprovalState } from '../domain/approval.state';
import { countsOf } from './domain/certification.state';
import type { CampaignCounts, CampaignState, ItemAnswer, ItemState } from './domain/certification.state';
import type { GrantFact } from './domain/grant-facts';
import type { RequestRecord } from './domain/people';

/**
 * Where a grant came from, as the approval service knows it: the request and its justification, the policy decision
 * at grant time (bundle digest, effect, reasons), who approved on what basis and when, earlier grants of the same
 * entitlement to the same holder (renewals), expiry changes and drift findings. Last use is not reported by any
 * connector yet, and today's bundle is not re-evaluated here (see the README).
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

export const lineageOf = (item: CertificationItem, sources: LineageSources): Lineage => {
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

export const itemViewOf = (campaignId: string, item: ItemState, sources: LineageSources): ItemView => ({
  ...item.item,
  campaignId,
  status: item.status,
  currentReviewerIds: item.reviewerIds,
  dueAt: item.dueAt,
  escalated: item.escalated,
  ...(item.answer !== undefined ? { answer: item.answer } : {}),
  lineage: lineageOf(item.item, sources),
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
