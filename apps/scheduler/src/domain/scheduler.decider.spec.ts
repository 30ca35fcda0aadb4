import { TimerFired } from '@grantline/contracts';
import type { Envelope, TimerFiredData } from '@grantline/contracts';
import { foldEvents } from '@grantline/decider';
import { deciderSpec } from '@grantline/testing';
import { specEventId } from '../testing/event-id';
import { schedulerEvents } from '../testing/scheduler-events';
import { makeSchedulerDecider } from './scheduler.decider';
import type { Tick } from './scheduler.decider';

const e = schedulerEvents();
const decider = makeSchedulerDecider({ eventId: specEventId });
const given = deciderSpec(decider);
const tick = (at: string, limit?: number): Tick => (limit === undefined ? { now: new Date(at) } : { now: new Date(at), limit });
const firedIds = (events: readonly Envelope[]): string[] => events.map((event) => (event.data as TimerFiredData).timerId);
/** The firing of the first timer due at `at`, as the ticker would publish it. */
const firingOf = (history: readonly Envelope[], at: string): Envelope => decider.decide(tick(at), foldEvents(decider, history))[0]!;

describe('scheduler decider: grant expiry', () => {
  const created = e.grantCreated('g1', 'r1', '2025-02-01T00:00:00.000Z');

  it('arms an expiry at the grant expiresAt and fires it then, not before', () => {
    given([created]).when(tick('2025-01-31T23:59:59.999Z')).thenNothing();
    given([created])
      .when(tick('2025-02-01T00:00:00.000Z'))
      .thenAssert((events) => expect(firedIds(events)).toEqual(['grant_expiry:g1']));
  });

  it('fires an iga.timer.fired event with a deterministic id, keyed by the request', () => {
    const history = [e.grantCreated('g1', 'r1', '2025-02-01T00:00:00.000Z', { id: 'evt-created' })];
    const id = specEventId('timer', 'grant_expiry:g1');

    given(history)
      .when(tick('2025-02-01T00:00:00.500Z'))
      .thenMatches([
        {
          id,
          type: TimerFired.type,
          subject: 'r1',
          correlationid: 'r1',
          causationid: 'evt-created',
          data: {
            timerId: 'grant_expiry:g1',
            kind: 'grant_expiry',
            dueAt: '2025-02-01T00:00:00.000Z',
            firedAt: '2025-02-01T00:00:00.500Z',
            target: { grantId: 'g1', requestId: 'r1' },
          },
        },
      ]);
    // the same timer fired later (a restarted scheduler) carries the same id
    given(history)
      .when(tick('2025-03-01T00:00:00.000Z'))
      .thenAssert((events) => expect(events[0]?.id).toBe(id));
  });

  it('moves the expiry when the activation carries a new expiresAt, keeping the request as key', () => {
    const history = [created, e.grantActivated('g1', 'r1', '2025-02-03T00:00:00.000Z')];

    given(history).when(tick('2025-02-02T00:00:00.000Z')).thenNothing();
    given(history)
      .when(tick('2025-02-03T00:00:00.000Z'))
      .thenAssert((events) => expect((events[0]?.data as TimerFiredData).target).toEqual({ grantId: 'g1', requestId: 'r1' }));
  });

  it('cancels the expiry of a grant revoked before it expired', () => {
    given([created, e.grantRevoked('g1', 'r1')])
      .when(tick('2030-01-01T00:00:00.000Z'))
      .thenAssert((events, book) => {
        expect(events).toEqual([]);
        expect(book.view().timers.size).toBe(0);
      });
  });

  it('never re-arms a revoked grant, even when its activation is read after the revocation', () => {
    const history = [
      e.grantRevoked('g1', 'r1'),
      e.grantCreated('g1', 'r1', '2025-02-01T00:00:00.000Z'),
      e.grantActivated('g1', 'r1', '2025-02-01T00:00:00.000Z'),
    ];

    expect(foldEvents(decider, history).view().timers.size).toBe(0);
  });
});

describe('scheduler decider: approval deadlines', () => {
  const open = e.taskOpened('t1', 'r1', '2025-01-02T00:00:00.000Z');

  it('arms a deadline at the task dueAt', () => {
    given([open])
      .when(tick('2025-01-02T00:00:00.000Z'))
      .thenAssert((events) => {
        expect(firedIds(events)).toEqual(['approval_deadline:t1']);
        expect((events[0]?.data as TimerFiredData).target).toEqual({ taskId: 't1', requestId: 'r1' });
      });
  });

  it('cancels the deadline when the task is denied', () => {
    expect(foldEvents(decider, [open, e.decision('t1', 'r1', 'carol', 'deny')]).view().timers.size).toBe(0);
  });

  it('keeps the deadline until a quorum of distinct approvers approved', () => {
    const once = [e.taskOpened('t2', 'r2', '2025-01-02T00:00:00.000Z', 2), e.decision('t2', 'r2', 'carol', 'approve')];
    const sameApproverAgain = [...once, e.decision('t2', 'r2', 'carol', 'approve')];
    const secondApprover = [...sameApproverAgain, e.decision('t2', 'r2', 'dave', 'approve')];
    const deadline = tick('2025-01-02T00:00:00.000Z');

    given(once)
      .when(deadline)
      .thenAssert((events) => expect(firedIds(events)).toEqual(['approval_deadline:t2']));
    given(sameApproverAgain)
      .when(deadline)
      .thenAssert((events) => expect(firedIds(events)).toEqual(['approval_deadline:t2']));
    given(secondApprover).when(deadline).thenNothing();
  });

  it('cancels every task of a request once the request is approved or denied', () => {
    const twoTasks = [open, e.taskOpened('t1b', 'r1', '2025-01-03T00:00:00.000Z')];

    expect(foldEvents(decider, [...twoTasks, e.requestApproved('r1', [{ grantId: 'g1', expiresAt: '2025-03-01T00:00:00.000Z' }])]).view().timers.size).toBe(0);
    expect(foldEvents(decider, [...twoTasks, e.requestDenied('r1')]).view().timers.size).toBe(0);
  });

  it('replaces the deadline of an escalated task by the new task own deadline', () => {
    given([open, e.escalated('t1', 'r1', 't1-esc'), e.taskOpened('t1-esc', 'r1', '2025-01-04T00:00:00.000Z')])
      .when(tick('2025-01-10T00:00:00.000Z'))
      .thenAssert((events) => expect(firedIds(events)).toEqual(['approval_deadline:t1-esc']));
  });
});

describe('scheduler decider: break-glass review and recertification', () => {
  it('arms a break-glass review timer from the opened review', () => {
    given([e.reviewOpened('rv1', 'r1', '2025-01-03T00:00:00.000Z')])
      .when(tick('2025-01-03T00:00:00.000Z'))
      .thenMatches([{ data: { timerId: 'break_glass_review_due:rv1', kind: 'break_glass_review_due', target: { reviewId: 'rv1', requestId: 'r1' } } }]);
  });

  it('arms no timer for a recertification review (its deadline is the approval service own)', () => {
    expect(foldEvents(decider, [e.reviewOpened('rv2', 'r1', '2025-01-03T00:00:00.000Z', 'recertification')]).view().timers.size).toBe(0);
  });

  it('arms recertifications every period from approval while the grant lives, one after the other', () => {
    const approved = e.requestApproved('r1', [{ grantId: 'g1', expiresAt: '2025-04-05T00:00:00.000Z' }], 'P30D', { time: '2025-01-01T00:00:00.000Z' });
    const history: Envelope[] = [approved, e.grantCreated('g1', 'r1', '2025-04-05T00:00:00.000Z')];
    const recertDue: string[] = [];
    for (let round = 0; round < 5; round += 1) {
      const next = [...foldEvents(decider, history).view().timers.values()].find((timer) => timer.kind === 'recertification_due');
      if (!next) break;
      recertDue.push(`${next.timerId}@${new Date(next.dueAt).toISOString()}`);
      // fired at its due time: the next occurrence is armed by the firing being folded back
      given(history)
        .when({ now: new Date(next.dueAt) })
        .thenAssert((events) => history.push(...events.filter((event) => (event.data as TimerFiredData).timerId === next.timerId)));
    }

    // 30, 60 and 90 days after approval; 120 days is past the expiry, so no fourth one
    expect(recertDue).toEqual([
      'recertification_due:g1:1@2025-01-31T00:00:00.000Z',
      'recertification_due:g1:2@2025-03-02T00:00:00.000Z',
      'recertification_due:g1:3@2025-04-01T00:00:00.000Z',
    ]);
  });

  it('cancels the pending recertification when the grant is revoked', () => {
    const approved = e.requestApproved('r1', [{ grantId: 'g1', expiresAt: '2025-12-01T00:00:00.000Z' }], 'P30D');

    expect(foldEvents(decider, [approved, e.grantCreated('g1', 'r1', '2025-12-01T00:00:00.000Z'), e.grantRevoked('g1', 'r1')]).view().timers.size).toBe(0);
  });
});

describe('scheduler decider: fired timers and idempotence', () => {
  const created = e.grantCreated('g1', 'r1', '2025-02-01T00:00:00.000Z');
  const firing = firingOf([created], '2025-02-01T00:00:00.000Z');

  it('does not fire again a timer whose firing is on the schedule topic', () => {
    given([created, firing]).when(tick('2030-01-01T00:00:00.000Z')).thenNothing();
  });

  it('does not arm a timer whose firing was replayed before the event that armed it', () => {
    expect(foldEvents(decider, [firing, created]).view().timers.size).toBe(0);
  });

  it('changes nothing when the same event is delivered twice', () => {
    const events = [
      created,
      e.grantActivated('g1', 'r1', '2025-02-02T00:00:00.000Z'),
      e.taskOpened('t1', 'r1', '2025-01-02T00:00:00.000Z', 2),
      e.decision('t1', 'r1', 'carol', 'approve'),
      e.requestApproved('r9', [{ grantId: 'g9', expiresAt: '2025-12-01T00:00:00.000Z' }], 'P30D'),
      e.reviewOpened('rv1', 'r1', '2025-01-03T00:00:00.000Z'),
      firing,
    ];
    for (const event of events) {
      const once = foldEvents(decider, events.slice(0, events.indexOf(event) + 1));
      expect(decider.evolve(once, event)).toEqual(once);
    }
  });

  it('ignores a redelivered older event after a newer one moved the timer', () => {
    given([created, e.grantActivated('g1', 'r1', '2025-02-05T00:00:00.000Z'), created])
      .when(tick('2025-02-04T00:00:00.000Z'))
      .thenNothing();
  });

  it('leaves the state it was given untouched', () => {
    const before = foldEvents(decider, [created]);
    const snapshot = new Map(before.view().timers);
    decider.evolve(before, e.grantRevoked('g1', 'r1'));

    expect(new Map(before.view().timers)).toEqual(snapshot);
  });

  it('ignores event types it does not schedule on', () => {
    const unrelated = { ...created, id: 'other', type: 'iga.grant.drift-detected.v1' };
    expect(decider.evolve(decider.initialState(), unrelated)).toEqual(decider.initialState());
  });

  it('fires at most `limit` timers per tick, earliest first', () => {
    const history = [e.grantCreated('g2', 'r2', '2025-02-02T00:00:00.000Z'), created, e.grantCreated('g3', 'r3', '2025-02-03T00:00:00.000Z')];
    given(history)
      .when(tick('2025-03-01T00:00:00.000Z', 2))
      .thenAssert((events) => expect(firedIds(events)).toEqual(['grant_expiry:g1', 'grant_expiry:g2']));
  });
});
