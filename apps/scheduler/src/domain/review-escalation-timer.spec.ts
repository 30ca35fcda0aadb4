import { ApprovalReviewCompleted, ApprovalReviewEscalated, registry } from '@grantline/contracts';
import type { Envelope, TimerFiredData } from '@grantline/contracts';
import { foldEvents } from '@grantline/decider';
import { deciderSpec } from '@grantline/testing';
import { specEventId } from '../testing/event-id';
import { schedulerEvents } from '../testing/scheduler-events';
import { makeSchedulerDecider } from './scheduler.decider';

const e = schedulerEvents();
const decider = makeSchedulerDecider({ eventId: specEventId });
const given = deciderSpec(decider);
const meta = (id: string) => ({
  id,
  source: 'grantline/approval',
  time: '2025-01-03T00:00:00.000Z',
  subject: 'r1',
  correlationid: 'r1',
  actor: { kind: 'service' as const, id: 'approval' },
});
const escalated = (escalation: number, dueAt: string): Envelope =>
  registry.encode(
    ApprovalReviewEscalated,
    {
      reviewId: 'rv1',
      requestId: 'r1',
      beneficiaryId: 'alice',
      reason: 'deadline_passed',
      escalation,
      previousDueAt: '2025-01-03T00:00:00.000Z',
      escalatedToIds: ['sec-1'],
      dueAt,
    },
    meta(`escalated-${escalation}`),
  );
const completed = (): Envelope =>
  registry.encode(
    ApprovalReviewCompleted,
    {
      reviewId: 'rv1',
      kind: 'break_glass_post_incident',
      requestId: 'r1',
      beneficiaryId: 'alice',
      reviewerId: 'bob',
      asSecurity: false,
      outcome: 'justified',
      findings: 'fine',
      completedAt: '2025-01-04T00:00:00.000Z',
    },
    meta('completed'),
  );
const opened = (): Envelope => e.reviewOpened('rv1', 'r1', '2025-01-03T00:00:00.000Z');

describe('scheduler decider: an escalated break-glass review is due again', () => {
  it('given a review escalated with a new due time, when that time comes, then its review-due timer fires again, under its own id', () => {
    const history = [opened(), escalated(1, '2025-01-05T00:00:00.000Z')];
    given(history)
      .when({ now: new Date('2025-01-04T23:59:59.999Z') })
      .thenAssert((events) => expect(events.map((event) => (event.data as TimerFiredData).timerId)).not.toContain('break_glass_review_due:rv1:1'));
    given(history)
      .when({ now: new Date('2025-01-05T00:00:00.000Z') })
      .thenAssert((events) =>
        expect(events.map((event) => event.data)).toContainEqual(
          expect.objectContaining({ timerId: 'break_glass_review_due:rv1:1', kind: 'break_glass_review_due', target: { reviewId: 'rv1', requestId: 'r1' } }),
        ),
      );
  });

  it('given a review completed, then none of its review-due timers is left, the escalated ones included', () => {
    const state = foldEvents(decider, [opened(), escalated(1, '2025-01-05T00:00:00.000Z'), completed()]);
    expect([...state.view().timers.keys()].filter((timerId) => timerId.startsWith('break_glass_review_due:rv1'))).toEqual([]);
  });
});
