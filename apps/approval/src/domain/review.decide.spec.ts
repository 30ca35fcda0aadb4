import { ApprovalBreakGlassGranted, ApprovalReviewCompleted, ApprovalReviewEscalated, ApprovalReviewOpened, TimerFired, registry } from '@grantline/contracts';
import type { Envelope } from '@grantline/contracts';
import { foldEvents } from '@grantline/decider';
import { deciderSpec } from '@grantline/testing';
import { DEFAULT_APPROVAL_POLICY } from './approval.policy';
import { APPROVAL_ACTOR, reviewIdOf } from './approval.decide';
import { ReviewRefused, makeReviewDecider, reviewerStanding } from './review.decide';
import type { ReviewCommand, ReviewRejection } from './review.decide';
import { assigneesOf, reviewStatusOf } from './review.state';
import { catalogEvent, directoryOf, organisation, specContext } from '../testing/approval-scenario';

// alice (manager bob) uses break-glass; bob is the named reviewer; sec-1 and sec-2 are security.
const REQ = 'req-bg';
const REVIEW = reviewIdOf(REQ);
const AT = '2026-01-06T10:00:00.000Z';
const directory = directoryOf([...organisation(), catalogEvent()]);
const { eventId } = specContext(directory);
const decider = makeReviewDecider({ directory, policy: DEFAULT_APPROVAL_POLICY, registry, eventId });
const given = deciderSpec(decider);

const approvalMeta = (id: string) => ({
  id,
  source: 'spec/approval',
  time: '2026-01-05T09:00:01.000Z',
  subject: REQ,
  correlationid: REQ,
  actor: APPROVAL_ACTOR,
});
/** What the approval decider publishes for a break-glass request (its own spec proves it): the grant and the review. */
const breakGlassUsed = (): Envelope[] => [
  registry.encode(
    ApprovalBreakGlassGranted,
    {
      requestId: REQ,
      beneficiaryId: 'alice',
      incidentRef: { system: 'jira', id: 'INC-9' },
      grants: [{ grantId: `${REQ}:orders-read`, entitlementId: 'orders-read', expiresAt: '2026-01-05T11:00:01.000Z' }],
      reviewDueAt: '2026-01-07T09:00:01.000Z',
      decisionId: `dec-${REQ}`,
    },
    approvalMeta('bg-granted'),
  ),
  registry.encode(
    ApprovalReviewOpened,
    {
      reviewId: REVIEW,
      kind: 'break_glass_post_incident',
      requestId: REQ,
      grantIds: [`${REQ}:orders-read`],
      reviewerIds: ['bob'],
      dueAt: '2026-01-07T09:00:01.000Z',
    },
    approvalMeta('bg-review-opened'),
  ),
];

const complete = (reviewerId: string, overrides: Partial<Extract<ReviewCommand, { kind: 'complete_review' }>> = {}): ReviewCommand => ({
  kind: 'complete_review',
  requestId: REQ,
  reviewId: REVIEW,
  reviewerId,
  asSecurity: false,
  outcome: 'justified',
  findings: 'read-only queries during the incident window',
  at: AT,
  ...overrides,
});

const timerFired = (firedAt: string, id = `timer-${firedAt}`): Envelope =>
  registry.encode(
    TimerFired,
    { timerId: `break_glass_review_due:${REVIEW}`, kind: 'break_glass_review_due', dueAt: firedAt, firedAt, target: { reviewId: REVIEW, requestId: REQ } },
    { id, source: 'spec/scheduler', time: firedAt, subject: REQ, correlationid: REQ, actor: { kind: 'service', id: 'scheduler' } },
  );
const due = (timer: Envelope): ReviewCommand => ({ kind: 'review_due', requestId: REQ, reviewId: REVIEW, timerEventId: timer.id, firedAt: timer.time });

const refused =
  (rejection: ReviewRejection) =>
  (error: unknown): boolean => {
    expect(error).toBeInstanceOf(ReviewRefused);
    expect(error).toMatchObject({ rejection });
    return true;
  };

describe('break-glass review decider', () => {
  describe('completing the post-incident review', () => {
    it('given an open review, when its named reviewer records the outcome, then review-completed names the beneficiary, the reviewer and the findings', () => {
      given(breakGlassUsed())
        .when(complete('bob', { outcome: 'unjustified', followUp: 'retrain on the runbook' }))
        .thenMatches([
          {
            type: ApprovalReviewCompleted.type,
            subject: REQ,
            correlationid: REQ,
            time: AT,
            actor: { kind: 'user', id: 'bob' },
            data: {
              reviewId: REVIEW,
              kind: 'break_glass_post_incident',
              requestId: REQ,
              beneficiaryId: 'alice',
              reviewerId: 'bob',
              asSecurity: false,
              outcome: 'unjustified',
              findings: 'read-only queries during the incident window',
              followUp: 'retrain on the runbook',
              completedAt: AT,
            },
          },
        ]);
    });

    it('given an open review, when security (not a named reviewer) records it, then it is completed as security', () => {
      given(breakGlassUsed())
        .when(complete('sec-1', { asSecurity: true }))
        .thenAssert((events, after) => {
          expect(events[0]?.data).toMatchObject({ reviewerId: 'sec-1', asSecurity: true });
          expect(reviewStatusOf(after)).toBe('completed');
        });
    });

    it('given an open review, when the beneficiary records it, then it is refused even with the security role', () => {
      given(breakGlassUsed())
        .when(complete('alice', { asSecurity: true }))
        .thenThrows(refused('beneficiary'));
    });

    it('given an open review, when someone neither security nor a reviewer records it, then it is refused', () => {
      given(breakGlassUsed()).when(complete('carol')).thenThrows(refused('not_reviewer'));
    });

    it('given a completed review, when anyone records it again, then it is refused as already completed (the first outcome stands)', () => {
      const first = decider.decide(complete('bob'), foldEvents(decider, breakGlassUsed()));
      given([...breakGlassUsed(), ...first])
        .when(complete('bob'))
        .thenThrows(refused('already_completed'));
      given([...breakGlassUsed(), ...first])
        .when(complete('sec-2', { asSecurity: true, outcome: 'unjustified' }))
        .thenThrows(refused('already_completed'));
    });

    it('given no such review, when a reviewer records it, then it is refused as unknown', () => {
      given([]).when(complete('bob')).thenThrows(refused('unknown_review'));
      given(breakGlassUsed())
        .when(complete('bob', { reviewId: 'other-review' }))
        .thenThrows(refused('unknown_review'));
    });

    it('given the same completion delivered twice, when folded, then the state changes once', () => {
      const events = [...breakGlassUsed(), ...decider.decide(complete('bob'), foldEvents(decider, breakGlassUsed()))];
      const once = foldEvents(decider, events);
      expect(foldEvents(decider, events, once)).toEqual(once);
    });
  });

  describe('the review-due timer', () => {
    const firstDue = '2026-01-07T09:00:00.000Z';

    it('given an open review, when its due timer fires, then it is escalated to security and the reviewers’ managers with a new due time', () => {
      given(breakGlassUsed())
        .when(due(timerFired(firstDue)))
        .thenMatches([
          {
            type: ApprovalReviewEscalated.type,
            subject: REQ,
            time: firstDue,
            causationid: `timer-${firstDue}`,
            data: {
              reviewId: REVIEW,
              requestId: REQ,
              beneficiaryId: 'alice',
              reason: 'deadline_passed',
              escalation: 1,
              escalatedToIds: ['sec-1', 'sec-2'],
              dueAt: '2026-01-09T09:00:00.000Z',
            },
          },
        ]);
    });

    it('given an escalated review, then whoever it was escalated to may complete it; a second timer escalates again, numbered', () => {
      const timer = timerFired(firstDue);
      const escalated = [...breakGlassUsed(), ...decider.decide(due(timer), foldEvents(decider, breakGlassUsed()))];
      const state = foldEvents(decider, escalated);
      expect(assigneesOf(state)).toEqual(['bob', 'sec-1', 'sec-2']);
      expect(reviewerStanding(state, REVIEW, 'sec-2', false)).toEqual({ allowed: true });
      given(escalated)
        .when(due(timerFired('2026-01-09T09:00:00.000Z')))
        .thenMatches([{ data: { escalation: 2, previousDueAt: '2026-01-09T09:00:00.000Z', dueAt: '2026-01-11T09:00:00.000Z' } }]);
    });

    it('given a timer that already escalated the review, when it is delivered again, then nothing more is decided', () => {
      const timer = timerFired(firstDue);
      const escalated = [...breakGlassUsed(), ...decider.decide(due(timer), foldEvents(decider, breakGlassUsed()))];
      given(escalated).when(due(timer)).thenNothing();
    });

    it('given a completed review, when its due timer fires, then nothing is decided', () => {
      const completed = [...breakGlassUsed(), ...decider.decide(complete('bob'), foldEvents(decider, breakGlassUsed()))];
      given(completed)
        .when(due(timerFired(firstDue)))
        .thenNothing();
    });

    it('given no security member known, when the timer fires, then the review goes to the security group itself rather than to no one', () => {
      const bare = makeReviewDecider({ directory: directoryOf([catalogEvent()]), policy: DEFAULT_APPROVAL_POLICY, registry, eventId });
      deciderSpec(bare)(breakGlassUsed())
        .when(due(timerFired(firstDue)))
        .thenMatches([{ data: { escalatedToIds: ['security'] } }]);
    });
  });
});
