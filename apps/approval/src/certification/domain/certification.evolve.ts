import {
  ApprovalCampaignCompleted,
  ApprovalCampaignScheduled,
  ApprovalCampaignStarted,
  ApprovalCertificationBlocked,
  ApprovalCertificationDecided,
  ApprovalCertificationLapsed,
  PolicyReviewItemsEvaluated,
  isEvent,
} from '@grantline/contracts';
import type { Envelope } from '@grantline/contracts';
import type { CampaignState, ItemState, ItemStatus } from './certification.state';

export const CAMPAIGN_EVENTS = [
  ApprovalCampaignScheduled,
  ApprovalCampaignStarted,
  ApprovalCertificationDecided,
  ApprovalCertificationLapsed,
  ApprovalCertificationBlocked,
  ApprovalCampaignCompleted,
  /** Policy's, on the decisions topic: today's verdict beside the one at grant time, per item. */
  PolicyReviewItemsEvaluated,
] as const;

const STATUS_OF_DECISION: Record<'certify' | 'revoke' | 'reduce', ItemStatus> = { certify: 'certified', revoke: 'revoked', reduce: 'reduced' };

const withItem = (state: CampaignState, itemId: string, change: (item: ItemState) => ItemState): CampaignState => {
  const item = state.items.get(itemId);
  return item ? { ...state, items: new Map(state.items).set(itemId, change(item)) } : state;
};

/** Folds one campaign event; any other event, or one already folded, leaves the state as it is. */
export const evolveCampaign = (state: CampaignState, event: Envelope): CampaignState => {
  if (state.seenEventIds.has(event.id)) return state;
  const seen = { ...state, seenEventIds: new Set(state.seenEventIds).add(event.id) };
  if (isEvent(event, ApprovalCampaignScheduled)) {
    return { ...seen, scheduled: { definitionId: event.data.definitionId, dueAt: event.data.dueAt } };
  }
  if (isEvent(event, ApprovalCampaignStarted)) {
    const { items, ...campaign } = event.data;
    return {
      ...seen,
      campaign: {
        campaignId: campaign.campaignId,
        definitionId: campaign.definitionId,
        trigger: campaign.trigger,
        startedAt: campaign.startedAt,
        dueAt: campaign.dueAt,
        onNoAnswer: campaign.onNoAnswer,
        ...(campaign.triggerEventId !== undefined ? { triggerEventId: campaign.triggerEventId } : {}),
        ...(campaign.startedBy !== undefined ? { startedBy: campaign.startedBy } : {}),
      },
      items: new Map(items.map((item) => [item.itemId, { item, status: 'open', reviewerIds: item.reviewerIds, dueAt: campaign.dueAt, escalated: false }])),
    };
  }
  if (isEvent(event, ApprovalCertificationDecided)) {
    const { itemId, decision, reviewerId, decidedAt, newExpiresAt, comment } = event.data;
    return withItem(seen, itemId, (item) => ({
      ...item,
      status: STATUS_OF_DECISION[decision],
      answer: { reviewerId, decision, decidedAt, ...(newExpiresAt !== undefined ? { newExpiresAt } : {}), ...(comment !== undefined ? { comment } : {}) },
    }));
  }
  if (isEvent(event, ApprovalCertificationLapsed)) {
    const { itemId, action, escalatedToIds, dueAt } = event.data;
    return withItem(seen, itemId, (item) =>
      action === 'revoke'
        ? { ...item, status: 'lapsed' }
        : { ...item, escalated: true, reviewerIds: escalatedToIds ?? item.reviewerIds, dueAt: dueAt ?? item.dueAt },
    );
  }
  if (isEvent(event, ApprovalCertificationBlocked)) return { ...seen, blockedAttempts: seen.blockedAttempts + 1 };
  if (isEvent(event, ApprovalCampaignCompleted)) return { ...seen, completedAt: event.data.completedAt };
  if (isEvent(event, PolicyReviewItemsEvaluated)) {
    // One answer per campaign: a second one (another id) does not replace what reviewers were shown.
    if (seen.policyToday !== undefined) return seen;
    const { currentBundleDigest, items } = event.data;
    return { ...seen, policyToday: { currentBundleDigest, evaluatedAt: event.time, items: new Map(items.map((item) => [item.itemId, item])) } };
  }
  return state;
};
