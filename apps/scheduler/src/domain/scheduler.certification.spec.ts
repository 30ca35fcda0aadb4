import {
  ApprovalCampaignCompleted,
  ApprovalCampaignScheduled,
  ApprovalCampaignStarted,
  ApprovalCertificationLapsed,
  GrantExpiryShortened,
  registry,
} from '@grantline/contracts';
import type { DataOf, Envelope, EventDefinition, TimerFiredData } from '@grantline/contracts';
import { deciderSpec } from '@grantline/testing';
import { specEventId } from '../testing/event-id';
import { schedulerEvents } from '../testing/scheduler-events';
import { makeSchedulerDecider } from './scheduler.decider';
import type { Tick } from './scheduler.decider';

// Certification timers: a cadence run's campaign_due, a campaign's review_deadline (and an escalated item's), and a
// grant expiry moved earlier by a certification that reduced the grant.
const e = schedulerEvents();
const given = deciderSpec(makeSchedulerDecider({ eventId: specEventId }));
const tick = (at: string): Tick => ({ now: new Date(at) });
let counter = 0;
const event = <T extends EventDefinition>(def: T, data: DataOf<T>, subject: string): Envelope =>
  registry.encode(def, data, {
    id: `spec-cert-${(counter += 1)}`,
    source: 'grantline/scheduler-spec',
    time: '2025-01-01T00:00:00.000Z',
    subject,
    correlationid: subject,
    actor: { kind: 'service', id: 'approval' },
  });
const fired = (events: readonly Envelope[]): Pick<TimerFiredData, 'timerId' | 'kind' | 'target'>[] =>
  events.map((firing) => {
    const { timerId, kind, target } = firing.data as TimerFiredData;
    return { timerId, kind, target };
  });

const CAMPAIGN = 'quarterly:on-demand:2025-01-01T00:00:00.000Z';
const ITEM = `${CAMPAIGN}/r1:orders-read`;
const started = event(
  ApprovalCampaignStarted,
  {
    campaignId: CAMPAIGN,
    definitionId: 'quarterly',
    trigger: 'on_demand',
    startedAt: '2025-01-01T00:00:00.000Z',
    dueAt: '2025-01-15T00:00:00.000Z',
    onNoAnswer: 'escalate',
    items: [],
  },
  CAMPAIGN,
);

describe('scheduler decider: certification timers', () => {
  it('a scheduled campaign run fires campaign_due at its due time, naming the campaign', () => {
    const scheduled = event(
      ApprovalCampaignScheduled,
      { definitionId: 'quarterly', campaignId: 'quarterly:2025-04-01T00:00:00.000Z', dueAt: '2025-04-01T00:00:00.000Z' },
      'quarterly',
    );
    given([scheduled]).when(tick('2025-03-31T23:59:59.000Z')).thenNothing();
    given([scheduled])
      .when(tick('2025-04-01T00:00:00.000Z'))
      .thenAssert((events) =>
        expect(fired(events)).toEqual([
          { timerId: 'campaign_due:quarterly:2025-04-01T00:00:00.000Z', kind: 'campaign_due', target: { campaignId: 'quarterly:2025-04-01T00:00:00.000Z' } },
        ]),
      );
  });

  it('a started campaign fires review_deadline at its due time; a completed one does not', () => {
    given([started])
      .when(tick('2025-01-15T00:00:00.000Z'))
      .thenAssert((events) =>
        expect(fired(events)).toEqual([
          { timerId: `review_deadline:${CAMPAIGN}`, kind: 'review_deadline', target: { reviewId: CAMPAIGN, campaignId: CAMPAIGN } },
        ]),
      );
    const completed = event(
      ApprovalCampaignCompleted,
      {
        campaignId: CAMPAIGN,
        definitionId: 'quarterly',
        counts: { items: 0, certified: 0, revoked: 0, reduced: 0, lapsed: 0 },
        completedAt: '2025-01-02T00:00:00.000Z',
      },
      CAMPAIGN,
    );
    given([started, completed]).when(tick('2025-01-15T00:00:00.000Z')).thenNothing();
  });

  it('an escalated item gets a review_deadline of its own at the escalation due time; a revoking lapse arms nothing', () => {
    const escalated = event(
      ApprovalCertificationLapsed,
      {
        campaignId: CAMPAIGN,
        itemId: ITEM,
        grantId: 'r1:orders-read',
        action: 'escalate',
        previousDueAt: '2025-01-15T00:00:00.000Z',
        escalatedToIds: ['fay'],
        dueAt: '2025-01-17T00:00:00.000Z',
        lapsedAt: '2025-01-15T00:00:00.000Z',
      },
      CAMPAIGN,
    );
    given([started, escalated])
      .when(tick('2025-01-17T00:00:00.000Z'))
      .thenAssert((events) =>
        expect(fired(events)).toContainEqual({ timerId: `review_deadline:${ITEM}`, kind: 'review_deadline', target: { reviewId: ITEM, campaignId: CAMPAIGN } }),
      );
    const revoked = event(
      ApprovalCertificationLapsed,
      {
        campaignId: CAMPAIGN,
        itemId: ITEM,
        grantId: 'r1:orders-read',
        action: 'revoke',
        previousDueAt: '2025-01-15T00:00:00.000Z',
        lapsedAt: '2025-01-15T00:00:00.000Z',
      },
      CAMPAIGN,
    );
    given([revoked]).when(tick('2025-02-01T00:00:00.000Z')).thenNothing();
  });

  it('a grant whose expiry a certification shortened expires at the new time, keeping its request as key', () => {
    const created = e.grantCreated('g1', 'r1', '2025-02-01T00:00:00.000Z');
    const shortened = event(
      GrantExpiryShortened,
      {
        grantId: 'g1',
        previousExpiresAt: '2025-02-01T00:00:00.000Z',
        expiresAt: '2025-01-10T00:00:00.000Z',
        reason: 'certification_reduced',
        triggeredBy: 'evt-decided',
      },
      'r1',
    );
    given([created, shortened])
      .when(tick('2025-01-10T00:00:00.000Z'))
      .thenMatches([
        {
          subject: 'r1',
          data: { timerId: 'grant_expiry:g1', kind: 'grant_expiry', dueAt: '2025-01-10T00:00:00.000Z', target: { grantId: 'g1', requestId: 'r1' } },
        },
      ]);
  });
});
