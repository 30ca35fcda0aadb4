import type { CampaignTrigger, CertificationDecision, CertificationItem, NoAnswerAction, ReviewItemEvaluation } from '@grantline/contracts';

export type ItemStatus = 'open' | 'certified' | 'revoked' | 'reduced' | 'lapsed';

export interface ItemAnswer {
  readonly reviewerId: string;
  readonly decision: CertificationDecision;
  readonly decidedAt: string;
  readonly newExpiresAt?: string;
  readonly comment?: string;
}

/** One review item: the grant as snapshotted at the start, who may answer it now, until when, and how it ended. */
export interface ItemState {
  readonly item: CertificationItem;
  readonly status: ItemStatus;
  /** The snapshot's reviewers, or those it was escalated to. */
  readonly reviewerIds: readonly string[];
  readonly dueAt: string;
  readonly escalated: boolean;
  readonly answer?: ItemAnswer;
}

export interface StartedCampaign {
  readonly campaignId: string;
  readonly definitionId: string;
  readonly trigger: CampaignTrigger;
  readonly triggerEventId?: string;
  readonly startedBy?: string;
  readonly startedAt: string;
  readonly dueAt: string;
  readonly onNoAnswer: NoAnswerAction;
}

/**
 * The policy service's answer to the campaign's start (`iga.policy.review-items-evaluated`): what today's bundle
 * decides for each item's recorded input. It may be folded before the start itself (replays read the decisions topic
 * and the approvals topic in either order), so it is kept per campaign, by item id, not inside the items.
 */
export interface PolicyToday {
  readonly currentBundleDigest: string;
  readonly evaluatedAt: string;
  readonly items: ReadonlyMap<string, ReviewItemEvaluation>;
}

/** One campaign's certification aggregate (keyed by the campaign id, which the commands name). */
export interface CampaignState {
  /** Set when the campaign was scheduled before it started (a cadence run). */
  readonly scheduled?: { readonly definitionId: string; readonly dueAt: string };
  readonly campaign?: StartedCampaign;
  /** In the snapshot's order. */
  readonly items: ReadonlyMap<string, ItemState>;
  readonly completedAt?: string;
  readonly blockedAttempts: number;
  /** What today's bundle decides for the items; absent until the policy service has answered. */
  readonly policyToday?: PolicyToday;
  /** Every event folded so far: a redelivered event changes nothing. */
  readonly seenEventIds: ReadonlySet<string>;
}

export const initialCampaignState = (): CampaignState => ({ items: new Map(), blockedAttempts: 0, seenEventIds: new Set() });

export const isClosed = (item: ItemState): boolean => item.status !== 'open';

export interface CampaignCounts {
  readonly items: number;
  readonly certified: number;
  readonly revoked: number;
  readonly reduced: number;
  readonly lapsed: number;
  readonly open: number;
}

/** Revoked counts the lapsed items too: both remove the grant. */
export const countsOf = (state: CampaignState): CampaignCounts => {
  const items = [...state.items.values()];
  const count = (status: ItemStatus): number => items.filter((item) => item.status === status).length;
  return {
    items: items.length,
    certified: count('certified'),
    revoked: count('revoked') + count('lapsed'),
    reduced: count('reduced'),
    lapsed: count('lapsed'),
    open: count('open'),
  };
};
