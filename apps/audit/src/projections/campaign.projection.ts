import { CAMPAIGN_EVENT_TYPES, compareStrings, hasApplied, insertSorted, withApplied } from './projection';
import type { AuditEvent, Projection, ProjectionDocument } from './projection';

/** The recertification campaign facts the audit keeps (the approval service's certification aggregate). */
const CAMPAIGN_EVENTS = CAMPAIGN_EVENT_TYPES;

type CampaignEvent = Extract<AuditEvent, { type: (typeof CAMPAIGN_EVENTS)[number] }>;
const CAMPAIGN_TYPES: ReadonlySet<string> = new Set(CAMPAIGN_EVENTS);
const isCampaignEvent = (event: AuditEvent): event is CampaignEvent => CAMPAIGN_TYPES.has(event.type);

export interface CampaignItemRecord {
  readonly itemId: string;
  readonly grantId: string;
  readonly beneficiaryId?: string;
  readonly entitlementId?: string;
  readonly privileged?: boolean;
  /** The reviewer's answer, when there was one (it closes the item whatever else happened). */
  readonly decision?: { readonly decision: 'certify' | 'revoke' | 'reduce'; readonly reviewerId: string; readonly decidedAt: string; readonly eventId: string };
  /** Each missed deadline, in order: an escalation, then (or at once) the revocation. */
  readonly lapses: readonly { readonly action: 'revoke' | 'escalate'; readonly lapsedAt: string; readonly eventId: string }[];
  /** What the bundle running at the start decided for the input recorded at grant time (policy's answer), or why not. */
  readonly policyToday?: PolicyTodayRecord;
}

export type PolicyTodayRecord =
  | { readonly outcome: 'evaluated'; readonly bundleDigest: string; readonly effect: string; readonly changed: boolean; readonly eventId: string }
  | { readonly outcome: 'unknown'; readonly bundleDigest: string; readonly reason: string; readonly eventId: string };

/**
 * One campaign, per campaign id: what it covered and what became of each item. Campaign events share the campaign's
 * partition, but the document depends only on the set of events (items kept by id, lapses sorted), so a rebuild
 * reproduces it exactly; the counts are derived from the items when read.
 */
export interface CampaignDocument extends ProjectionDocument {
  readonly campaignId: string;
  readonly definitionId?: string;
  readonly trigger?: string;
  readonly startedAt?: string;
  readonly dueAt?: string;
  readonly completedAt?: string;
  readonly items: readonly CampaignItemRecord[];
  readonly blockedAttempts: readonly { readonly itemId: string; readonly attemptedById: string; readonly relation: string; readonly attemptedAt: string }[];
}

const byItem = (a: CampaignItemRecord, b: CampaignItemRecord): number => compareStrings(a.itemId, b.itemId);

const withItem = (doc: CampaignDocument, itemId: string, grantId: string, change: (item: CampaignItemRecord) => CampaignItemRecord): CampaignDocument => {
  const known = doc.items.find((item) => item.itemId === itemId) ?? { itemId, grantId, lapses: [] };
  return {
    ...doc,
    items: insertSorted(
      doc.items.filter((item) => item.itemId !== itemId),
      change(known),
      byItem,
    ),
  };
};

function applyEvent(doc: CampaignDocument, event: CampaignEvent): CampaignDocument {
  switch (event.type) {
    case 'iga.approval.campaign-started.v1': {
      const { definitionId, trigger, startedAt, dueAt, items } = event.data;
      const started = { ...doc, definitionId, trigger, startedAt, dueAt };
      return items.reduce<CampaignDocument>(
        (next, item) =>
          withItem(next, item.itemId, item.grantId, (known) => ({
            ...known,
            beneficiaryId: item.beneficiaryId,
            entitlementId: item.entitlementId,
            privileged: item.privileged,
          })),
        started,
      );
    }
    case 'iga.approval.certification-decided.v1': {
      const { itemId, grantId, decision, reviewerId, decidedAt } = event.data;
      return withItem(doc, itemId, grantId, (known) => ({ ...known, decision: { decision, reviewerId, decidedAt, eventId: event.id } }));
    }
    case 'iga.approval.certification-lapsed.v1': {
      const { itemId, grantId, action, lapsedAt } = event.data;
      return withItem(doc, itemId, grantId, (known) => ({
        ...known,
        lapses: insertSorted(
          known.lapses,
          { action, lapsedAt, eventId: event.id },
          (a, b) => compareStrings(a.lapsedAt, b.lapsedAt) || compareStrings(a.eventId, b.eventId),
        ),
      }));
    }
    case 'iga.approval.certification-blocked.v1': {
      const { itemId, attemptedById, relation, attemptedAt } = event.data;
      return {
        ...doc,
        blockedAttempts: insertSorted(
          doc.blockedAttempts,
          { itemId, attemptedById, relation, attemptedAt },
          (a, b) => compareStrings(a.attemptedAt, b.attemptedAt) || compareStrings(a.attemptedById, b.attemptedById),
        ),
      };
    }
    case 'iga.approval.campaign-completed.v1':
      return { ...doc, completedAt: event.data.completedAt };
    case 'iga.policy.review-items-evaluated.v1': {
      const bundleDigest = event.data.currentBundleDigest;
      return event.data.items.reduce<CampaignDocument>(
        (next, answer) =>
          withItem(next, answer.itemId, answer.grantId, (known) => {
            // One answer per campaign; were there two, the lower event id wins whatever the order they are read in.
            if (known.policyToday !== undefined && compareStrings(known.policyToday.eventId, event.id) <= 0) return known;
            const policyToday: PolicyTodayRecord =
              answer.outcome === 'evaluated'
                ? { outcome: 'evaluated', bundleDigest, effect: answer.currentEffect, changed: answer.changed, eventId: event.id }
                : { outcome: 'unknown', bundleDigest, reason: answer.reason, eventId: event.id };
            return { ...known, policyToday };
          }),
        doc,
      );
    }
  }
}

const emptyDocument = (campaignId: string): CampaignDocument => ({ _id: campaignId, campaignId, items: [], blockedAttempts: [], appliedEventIds: [] });

export interface CampaignCounts {
  readonly items: number;
  readonly decided: number;
  readonly certified: number;
  readonly revoked: number;
  readonly reduced: number;
  /** Items that missed a deadline (escalated or revoked for it). */
  readonly overdue: number;
  /** Revoked because nobody answered (included in `revoked`). */
  readonly revokedUnanswered: number;
  readonly open: number;
}

/** The counts of a campaign document: answered items by their answer, unanswered ones by their last lapse. */
export const countsOf = (doc: CampaignDocument): CampaignCounts => {
  const answered = doc.items.filter((item) => item.decision !== undefined);
  const revokedUnanswered = doc.items.filter((item) => item.decision === undefined && item.lapses.some((lapse) => lapse.action === 'revoke')).length;
  const by = (decision: 'certify' | 'revoke' | 'reduce'): number => answered.filter((item) => item.decision?.decision === decision).length;
  return {
    items: doc.items.length,
    decided: answered.length,
    certified: by('certify'),
    revoked: by('revoke') + revokedUnanswered,
    reduced: by('reduce'),
    overdue: doc.items.filter((item) => item.lapses.length > 0).length,
    revokedUnanswered,
    open: doc.items.length - answered.length - revokedUnanswered,
  };
};

/** Recertification campaigns: per campaign, its items, what was decided, revoked and overdue. */
export const campaignProjection: Projection<CampaignDocument> = {
  name: 'campaigns',
  // 2: each item's verdict today (iga.policy.review-items-evaluated).
  version: 2,
  handles: CAMPAIGN_EVENTS,
  documentIdsOf(event) {
    return isCampaignEvent(event) ? [event.data.campaignId] : [];
  },
  apply(doc, event, id) {
    if ((doc !== undefined && hasApplied(doc, event)) || !isCampaignEvent(event)) return doc ?? emptyDocument(id);
    const next = applyEvent(doc ?? emptyDocument(id), event);
    return { ...next, appliedEventIds: withApplied(doc, event) };
  },
};
