import {
  ApprovalCampaignCompleted,
  ApprovalCampaignStarted,
  ApprovalCertificationBlocked,
  ApprovalCertificationDecided,
  ApprovalCertificationLapsed,
  FIXTURE_TIME,
  PolicyReviewItemsEvaluated,
  registry,
} from '@grantline/contracts';
import type { CertificationItem, DataOf, EventDefinition } from '@grantline/contracts';
import { projectInMemory } from '../testing/in-memory-projection';
import { campaignProjection, countsOf } from './campaign.projection';
import type { AuditEvent } from './projection';

const CAMPAIGN = 'quarterly:on-demand:2025-03-01T09:00:00.000Z';
let counter = 0;
const event = <T extends EventDefinition>(def: T, data: DataOf<T>): AuditEvent =>
  registry.encode(def, data, {
    id: `evt-${(counter += 1)}`,
    source: 'spec',
    time: FIXTURE_TIME,
    subject: CAMPAIGN,
    correlationid: CAMPAIGN,
    actor: { kind: 'service', id: 'approval' },
  }) as AuditEvent;
const item = (n: number): CertificationItem => ({
  itemId: `${CAMPAIGN}/req-${n}:orders-write`,
  grantId: `req-${n}:orders-write`,
  requestId: `req-${n}`,
  beneficiaryId: `person-${n}`,
  beneficiaryKind: 'human',
  entitlementId: 'orders-write',
  systemId: 'orders-db',
  sensitivity: 'high',
  environment: 'prod',
  privileged: true,
  expiresAt: '2025-04-01T00:00:00.000Z',
  reviewerIds: ['bob'],
});
const items = [1, 2, 3, 4].map(item);
const started = event(ApprovalCampaignStarted, {
  campaignId: CAMPAIGN,
  definitionId: 'quarterly',
  trigger: 'on_demand',
  startedAt: FIXTURE_TIME,
  dueAt: '2025-03-15T09:00:00.000Z',
  onNoAnswer: 'escalate',
  items,
});
const decided = (n: number, decision: 'certify' | 'revoke'): AuditEvent =>
  event(ApprovalCertificationDecided, {
    campaignId: CAMPAIGN,
    itemId: item(n).itemId,
    grantId: item(n).grantId,
    decision,
    reviewerId: 'bob',
    decidedAt: '2025-03-02T09:00:00.000Z',
  });
const lapsed = (n: number, action: 'revoke' | 'escalate', at: string): AuditEvent =>
  event(ApprovalCertificationLapsed, {
    campaignId: CAMPAIGN,
    itemId: item(n).itemId,
    grantId: item(n).grantId,
    action,
    previousDueAt: '2025-03-15T09:00:00.000Z',
    ...(action === 'escalate' ? { escalatedToIds: ['fay'], dueAt: '2025-03-17T09:00:00.000Z' } : {}),
    lapsedAt: at,
  });
const evaluatedToday = event(PolicyReviewItemsEvaluated, {
  campaignId: CAMPAIGN,
  currentBundleDigest: 'c'.repeat(64),
  items: [
    {
      itemId: item(1).itemId,
      grantId: item(1).grantId,
      requestId: item(1).requestId,
      outcome: 'evaluated',
      recordedDecisionId: 'dec-1',
      recordedBundleDigest: 'a'.repeat(64),
      recordedEffect: 'require_approval',
      currentEffect: 'deny',
      currentReasons: ['orders-db is frozen'],
      changed: true,
    },
    { itemId: item(2).itemId, grantId: item(2).grantId, requestId: item(2).requestId, outcome: 'unknown', reason: 'recorded_before_v2', detail: 'v1 record' },
  ],
});
const story: AuditEvent[] = [
  started,
  evaluatedToday,
  decided(1, 'certify'),
  decided(2, 'revoke'),
  event(ApprovalCertificationBlocked, {
    campaignId: CAMPAIGN,
    itemId: item(3).itemId,
    attemptedById: 'person-3',
    relation: 'beneficiary',
    reason: 'own access',
    attemptedAt: '2025-03-02T10:00:00.000Z',
  }),
  lapsed(3, 'escalate', '2025-03-15T09:00:01.000Z'),
  lapsed(4, 'escalate', '2025-03-15T09:00:01.000Z'),
  // escalated, then answered by the manager's manager
  decided(4, 'certify'),
  lapsed(3, 'revoke', '2025-03-17T09:00:01.000Z'),
  event(ApprovalCampaignCompleted, {
    campaignId: CAMPAIGN,
    definitionId: 'quarterly',
    counts: { items: 4, certified: 2, revoked: 2, reduced: 0, lapsed: 1 },
    completedAt: '2025-03-17T09:00:01.000Z',
  }),
];

describe('campaigns projection', () => {
  it('counts per campaign: items, decided, revoked (answered or unanswered), overdue', () => {
    const doc = projectInMemory(campaignProjection, story).get(CAMPAIGN);
    expect(doc).toMatchObject({ definitionId: 'quarterly', trigger: 'on_demand', completedAt: '2025-03-17T09:00:01.000Z' });
    expect(doc?.blockedAttempts).toEqual([expect.objectContaining({ attemptedById: 'person-3', relation: 'beneficiary' })]);
    expect(countsOf(doc!)).toEqual({ items: 4, decided: 3, certified: 2, revoked: 2, reduced: 0, overdue: 2, revokedUnanswered: 1, open: 0 });
  });

  it('is the same document whatever the order the events arrive in, and applying an event twice changes nothing', () => {
    const forward = projectInMemory(campaignProjection, story).get(CAMPAIGN);
    const backward = projectInMemory(campaignProjection, [...story].reverse()).get(CAMPAIGN);
    expect(backward).toEqual(forward);
    const twice = projectInMemory(campaignProjection, [...story, ...story]).get(CAMPAIGN);
    expect(twice).toEqual(forward);
  });

  it('keeps, per item, what the bundle running at the start decided for the input recorded at grant time', () => {
    const doc = projectInMemory(campaignProjection, story).get(CAMPAIGN);
    const todayOf = (n: number) => doc?.items.find((record) => record.itemId === item(n).itemId)?.policyToday;
    expect(todayOf(1)).toEqual({ outcome: 'evaluated', bundleDigest: 'c'.repeat(64), effect: 'deny', changed: true, eventId: evaluatedToday.id });
    expect(todayOf(2)).toEqual({ outcome: 'unknown', bundleDigest: 'c'.repeat(64), reason: 'recorded_before_v2', eventId: evaluatedToday.id });
    expect(todayOf(3)).toBeUndefined();
  });

  it('an open campaign counts its unanswered items as open', () => {
    const doc = projectInMemory(campaignProjection, [started, decided(1, 'certify')]).get(CAMPAIGN);
    expect(countsOf(doc!)).toMatchObject({ items: 4, decided: 1, open: 3, overdue: 0 });
  });
});
