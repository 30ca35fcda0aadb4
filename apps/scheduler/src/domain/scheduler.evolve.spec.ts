import { TimerFired } from '@grantline/contracts';
import type { Envelope } from '@grantline/contracts';
import { specEventId } from '../testing/event-id';
import { schedulerEvents } from '../testing/scheduler-events';
import { evolve } from './scheduler.evolve';
import { initialState } from './scheduler.state';
import type { SchedulerState } from './scheduler.state';
import { due, timerFiredEvent } from './timer-fired.factory';

const e = schedulerEvents();
const firingContext = { eventId: specEventId };
const given = (...events: Envelope[]): SchedulerState => events.reduce<SchedulerState>(evolve, initialState());
const dueIds = (state: SchedulerState, at: string): string[] => due(state, new Date(at)).map((timer) => timer.timerId);
const firedAt = (state: SchedulerState, at: string): Envelope[] => due(state, new Date(at)).map((timer) => timerFiredEvent(timer, new Date(at), firingContext));

describe('scheduler domain: grant expiry', () => {
  it('arms an expiry at the grant expiresAt and fires it then, not before', () => {
    const state = given(e.grantCreated('g1', 'r1', '2025-02-01T00:00:00.000Z'));

    expect(dueIds(state, '2025-01-31T23:59:59.999Z')).toEqual([]);
    expect(dueIds(state, '2025-02-01T00:00:00.000Z')).toEqual(['grant_expiry:g1']);
  });

  it('fires an iga.timer.fired event with a deterministic id, keyed by the request', () => {
    const state = given(e.grantCreated('g1', 'r1', '2025-02-01T00:00:00.000Z', { id: 'evt-created' }));

    const [fired] = firedAt(state, '2025-02-01T00:00:00.500Z');

    expect(fired).toMatchObject({
      id: specEventId('timer', 'grant_expiry:g1'),
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
    });
    // the same timer fired later (a restarted scheduler) carries the same id
    expect(firedAt(state, '2025-03-01T00:00:00.000Z')[0]?.id).toBe(fired?.id);
  });

  it('moves the expiry when the activation carries a new expiresAt, keeping the request as key', () => {
    const state = given(e.grantCreated('g1', 'r1', '2025-02-01T00:00:00.000Z'), e.grantActivated('g1', 'r1', '2025-02-03T00:00:00.000Z'));

    expect(dueIds(state, '2025-02-02T00:00:00.000Z')).toEqual([]);
    expect(due(state, new Date('2025-02-03T00:00:00.000Z'))[0]?.target).toEqual({ grantId: 'g1', requestId: 'r1' });
  });

  it('cancels the expiry of a grant revoked before it expired', () => {
    const state = given(e.grantCreated('g1', 'r1', '2025-02-01T00:00:00.000Z'), e.grantRevoked('g1', 'r1'));

    expect(dueIds(state, '2030-01-01T00:00:00.000Z')).toEqual([]);
    expect(state.timers.size).toBe(0);
  });

  it('never re-arms a revoked grant, even when its activation is read after the revocation', () => {
    const state = given(e.grantRevoked('g1', 'r1'), e.grantCreated('g1', 'r1', '2025-02-01T00:00:00.000Z'), e.grantActivated('g1', 'r1', '2025-02-01T00:00:00.000Z'));

    expect(state.timers.size).toBe(0);
  });
});

describe('scheduler domain: approval deadlines', () => {
  const open = e.taskOpened('t1', 'r1', '2025-01-02T00:00:00.000Z');

  it('arms a deadline at the task dueAt', () => {
    expect(dueIds(given(open), '2025-01-02T00:00:00.000Z')).toEqual(['approval_deadline:t1']);
    expect(due(given(open), new Date('2025-01-02T00:00:00.000Z'))[0]?.target).toEqual({ taskId: 't1', requestId: 'r1' });
  });

  it('cancels the deadline when the task is denied', () => {
    expect(given(open, e.decision('t1', 'r1', 'carol', 'deny')).timers.size).toBe(0);
  });

  it('keeps the deadline until a quorum of distinct approvers approved', () => {
    const quorum2 = e.taskOpened('t2', 'r2', '2025-01-02T00:00:00.000Z', 2);
    const once = given(quorum2, e.decision('t2', 'r2', 'carol', 'approve'));
    const sameApproverAgain = evolve(once, e.decision('t2', 'r2', 'carol', 'approve'));
    const secondApprover = evolve(sameApproverAgain, e.decision('t2', 'r2', 'dave', 'approve'));

    expect(dueIds(once, '2025-01-02T00:00:00.000Z')).toEqual(['approval_deadline:t2']);
    expect(dueIds(sameApproverAgain, '2025-01-02T00:00:00.000Z')).toEqual(['approval_deadline:t2']);
    expect(dueIds(secondApprover, '2025-01-02T00:00:00.000Z')).toEqual([]);
  });

  it('cancels every task of a request once the request is approved or denied', () => {
    const twoTasks = [open, e.taskOpened('t1b', 'r1', '2025-01-03T00:00:00.000Z')];

    expect(given(...twoTasks, e.requestApproved('r1', [{ grantId: 'g1', expiresAt: '2025-03-01T00:00:00.000Z' }])).timers.size).toBe(0);
    expect(given(...twoTasks, e.requestDenied('r1')).timers.size).toBe(0);
  });

  it('replaces the deadline of an escalated task by the new task own deadline', () => {
    const state = given(open, e.escalated('t1', 'r1', 't1-esc'), e.taskOpened('t1-esc', 'r1', '2025-01-04T00:00:00.000Z'));

    expect(dueIds(state, '2025-01-10T00:00:00.000Z')).toEqual(['approval_deadline:t1-esc']);
  });
});

describe('scheduler domain: break-glass review and recertification', () => {
  it('arms a break-glass review timer from the opened review', () => {
    const state = given(e.reviewOpened('rv1', 'r1', '2025-01-03T00:00:00.000Z'));

    expect(due(state, new Date('2025-01-03T00:00:00.000Z'))).toMatchObject([
      { timerId: 'break_glass_review_due:rv1', kind: 'break_glass_review_due', target: { reviewId: 'rv1', requestId: 'r1' } },
    ]);
  });

  it('arms no timer for a recertification review (its deadline is the approval service own)', () => {
    expect(given(e.reviewOpened('rv2', 'r1', '2025-01-03T00:00:00.000Z', 'recertification')).timers.size).toBe(0);
  });

  it('arms recertifications every period from approval while the grant lives, one after the other', () => {
    const approved = e.requestApproved('r1', [{ grantId: 'g1', expiresAt: '2025-04-05T00:00:00.000Z' }], 'P30D', { time: '2025-01-01T00:00:00.000Z' });
    let state = given(approved, e.grantCreated('g1', 'r1', '2025-04-05T00:00:00.000Z'));
    const recertDue: string[] = [];
    for (let round = 0; round < 5; round += 1) {
      const next = [...state.timers.values()].find((timer) => timer.kind === 'recertification_due');
      if (!next) break;
      recertDue.push(`${next.timerId}@${new Date(next.dueAt).toISOString()}`);
      state = evolve(state, timerFiredEvent(next, new Date(next.dueAt), firingContext));
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
    const state = given(approved, e.grantCreated('g1', 'r1', '2025-12-01T00:00:00.000Z'), e.grantRevoked('g1', 'r1'));

    expect(state.timers.size).toBe(0);
  });
});

describe('scheduler domain: fired timers and idempotence', () => {
  const created = e.grantCreated('g1', 'r1', '2025-02-01T00:00:00.000Z');
  const firing = timerFiredEvent(due(given(created), new Date('2025-02-01T00:00:00.000Z'))[0]!, new Date('2025-02-01T00:00:00.000Z'), firingContext);

  it('does not fire again a timer whose firing is on the schedule topic', () => {
    expect(dueIds(given(created, firing), '2030-01-01T00:00:00.000Z')).toEqual([]);
  });

  it('does not arm a timer whose firing was replayed before the event that armed it', () => {
    expect(given(firing, created).timers.size).toBe(0);
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
      const once = given(...events.slice(0, events.indexOf(event) + 1));
      expect(evolve(once, event)).toEqual(once);
    }
  });

  it('ignores a redelivered older event after a newer one moved the timer', () => {
    const activated = e.grantActivated('g1', 'r1', '2025-02-05T00:00:00.000Z');
    const state = given(created, activated, created);

    expect(dueIds(state, '2025-02-04T00:00:00.000Z')).toEqual([]);
  });

  it('leaves the state it was given untouched', () => {
    const before = given(created);
    const snapshot = new Map(before.timers);
    evolve(before, e.grantRevoked('g1', 'r1'));

    expect(before.timers).toEqual(snapshot);
  });

  it('ignores event types it does not schedule on', () => {
    const unrelated = { ...created, id: 'other', type: 'iga.grant.drift-detected.v1' };
    expect(evolve(initialState(), unrelated)).toEqual(initialState());
  });
});
