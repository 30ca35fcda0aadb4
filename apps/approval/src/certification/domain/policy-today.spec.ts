import { ApprovalCampaignStarted, PolicyReviewItemsEvaluated, registry } from '@grantline/contracts';
import type { CampaignStartedData, Envelope, ReviewItemsEvaluatedData } from '@grantline/contracts';
import { policyDecisionTodayOf } from '../certification.views';
import { evolveCampaign } from './certification.evolve';
import { initialCampaignState } from './certification.state';
import type { CampaignState } from './certification.state';

const CAMPAIGN = 'quarterly:2026-01-05T09:00:00.000Z';
const AT = '2026-01-05T09:00:00.000Z';
const meta = (id: string, source: string) => ({
  id,
  source,
  time: AT,
  subject: CAMPAIGN,
  correlationid: CAMPAIGN,
  actor: { kind: 'service' as const, id: source },
});

const item = (requestId: string): CampaignStartedData['items'][number] => ({
  itemId: `${CAMPAIGN}:${requestId}:orders-read`,
  grantId: `${requestId}:orders-read`,
  requestId,
  beneficiaryId: 'alice',
  beneficiaryKind: 'human',
  entitlementId: 'orders-read',
  systemId: 'orders-db',
  sensitivity: 'high',
  environment: 'prod',
  privileged: true,
  expiresAt: '2026-03-01T00:00:00.000Z',
  reviewerIds: ['bob'],
});

const started = registry.encode(
  ApprovalCampaignStarted,
  {
    campaignId: CAMPAIGN,
    definitionId: 'quarterly',
    trigger: 'schedule',
    startedAt: AT,
    dueAt: '2026-01-19T09:00:00.000Z',
    onNoAnswer: 'revoke',
    items: [item('req-a'), item('req-b'), item('req-c')],
  },
  meta('evt-started', 'approval'),
);

const evaluated = (data: Partial<ReviewItemsEvaluatedData> = {}, id = 'evt-evaluated'): Envelope =>
  registry.encode(
    PolicyReviewItemsEvaluated,
    {
      campaignId: CAMPAIGN,
      currentBundleDigest: 'c'.repeat(64),
      items: [
        {
          itemId: item('req-a').itemId,
          grantId: 'req-a:orders-read',
          requestId: 'req-a',
          outcome: 'evaluated',
          recordedDecisionId: 'dec-a',
          recordedBundleDigest: 'a'.repeat(64),
          recordedEffect: 'auto_approve',
          currentEffect: 'deny',
          currentReasons: ['orders-db is frozen'],
          changed: true,
        },
        {
          itemId: item('req-b').itemId,
          grantId: 'req-b:orders-read',
          requestId: 'req-b',
          outcome: 'unknown',
          reason: 'recorded_before_v2',
          detail: 'recorded before v2: v1 did not keep the whole evaluation',
        },
      ],
      ...data,
    },
    meta(id, 'policy'),
  );

const fold = (...events: Envelope[]): CampaignState => events.reduce(evolveCampaign, initialCampaignState());
const todayOf = (state: CampaignState, requestId: string) => policyDecisionTodayOf(item(requestId).itemId, state.policyToday);

describe("a review item's verdict today, beside the one at grant time", () => {
  it('Given only the campaign start, When an item is viewed, Then today’s verdict is pending', () => {
    expect(todayOf(fold(started), 'req-a')).toEqual({ status: 'pending' });
  });

  it('Given policy’s answer, When each item is viewed, Then it shows today’s effect and whether it changed, why it is unknown, or pending when not answered', () => {
    const state = fold(started, evaluated());
    expect(todayOf(state, 'req-a')).toEqual({
      status: 'evaluated',
      bundleDigest: 'c'.repeat(64),
      effect: 'deny',
      reasons: ['orders-db is frozen'],
      changed: true,
      evaluatedAt: AT,
    });
    expect(todayOf(state, 'req-b')).toMatchObject({ status: 'unknown', reason: 'recorded_before_v2', bundleDigest: 'c'.repeat(64) });
    expect(todayOf(state, 'req-c')).toEqual({ status: 'pending' });
  });

  it('Given policy’s answer folded before the start (replays read the topics in either order), When the start is folded, Then the answer is kept', () => {
    expect(todayOf(fold(evaluated(), started), 'req-a')).toMatchObject({ status: 'evaluated', changed: true });
  });

  it('Given an answer, When it is delivered again or another answer arrives, Then what reviewers see does not change', () => {
    const once = fold(started, evaluated());
    expect(evolveCampaign(once, evaluated())).toBe(once);
    const other = evolveCampaign(once, evaluated({ currentBundleDigest: 'd'.repeat(64) }, 'evt-other'));
    expect(todayOf(other, 'req-a')).toMatchObject({ bundleDigest: 'c'.repeat(64) });
  });
});
