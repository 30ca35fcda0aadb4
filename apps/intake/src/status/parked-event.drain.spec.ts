import type { Envelope } from '@grantline/contracts';
import { activated, approved, decided, grantCreated, revoked, submitted, withdrawn } from '../testing/lifecycle.builders';
import { appliesTo, byEventTime, nextToDrain, parkingOf } from './parked-event.drain';
import type { ParkedEvent } from './parked-event.drain';
import { evolveRequestStatus, grantsAttachedBy } from './request-status.projection';
import type { RequestStatusView } from './request-status.projection';

let arrivals = 0;
function parked(event: Envelope): ParkedEvent {
  arrivals += 1;
  return { eventId: event.id, ...parkingOf(event), arrival: arrivals, event };
}

/** The store's drain loop without the database: apply what applies, earliest first, until nothing does. */
function drain(view: RequestStatusView, waiting: readonly ParkedEvent[]): { view: RequestStatusView; applied: string[]; left: string[] } {
  let current = view;
  let rest = [...waiting];
  const applied: string[] = [];
  for (let next = nextToDrain(current, rest); next !== undefined; next = nextToDrain(current, rest)) {
    const evolution = evolveRequestStatus(current, next.event);
    if (evolution) current = evolution.view;
    applied.push(next.event.type);
    rest = rest.filter((p) => p.eventId !== next?.eventId);
  }
  return { view: current, applied, left: rest.map((p) => p.event.type) };
}

function viewOf(event: Envelope): RequestStatusView {
  const evolution = evolveRequestStatus(undefined, event);
  if (!evolution) throw new Error('a submission creates the view');
  return evolution.view;
}

describe('parked event drain', () => {
  it('parks under the request when the event names one, else under its grant', () => {
    expect(parkingOf(decided('deny', 'req-p'))).toEqual({ requestId: 'req-p' });
    expect(parkingOf(activated('req-p:a'))).toEqual({ grantId: 'req-p:a' });
    expect(parkingOf(grantCreated('req-p', 'a'))).toEqual({ requestId: 'req-p', grantId: 'req-p:a' });
  });

  it('given a decision parked before the submission, the submitted view takes it', () => {
    const decision = decided('auto_approve', 'req-1');
    const { view, applied } = drain(viewOf(submitted()), [parked(decision)]);
    expect(applied).toEqual(['iga.policy.decision-recorded.v2']);
    expect(view.status).toBe('approved');
    expect(view.timeline.map((entry) => entry.eventId)).toHaveLength(2);
  });

  it('given approval, creation and activation parked, drains to provisioned in event-time order', () => {
    const first = submitted();
    const events = [decided('auto_approve'), approved(), grantCreated('req-1', 'orders-staging-read'), activated('req-1:orders-staging-read')];
    // Parked in reverse: the drain orders by event time, not by arrival.
    const { view, applied, left } = drain(viewOf(first), [...events].reverse().map(parked));
    expect(applied).toEqual(events.map((event) => event.type));
    expect(view.status).toBe('provisioned');
    expect(left).toEqual([]);
  });

  it('holds a grant event whose grant is not attached yet, even when its clock says it came first', () => {
    const early = activated('req-1:orders-staging-read');
    const approval = approved();
    const view = viewOf(submitted());
    expect(byEventTime(parked(early), parked(approval))).toBeLessThan(0);
    expect(nextToDrain(view, [parked(early)])).toBeUndefined();
    const { view: after, applied } = drain(view, [parked(early), parked(approval)]);
    expect(applied).toEqual(['iga.approval.request-approved.v1', 'iga.grant.activated.v1']);
    expect(after.status).toBe('provisioned');
  });

  it('leaves events of other requests and of grants the request never gets', () => {
    const view = viewOf(submitted());
    const { applied, left } = drain(view, [parked(withdrawn('req-2')), parked(revoked('req-2:x')), parked(revoked('req-1:never'))]);
    expect(applied).toEqual([]);
    expect(left).toHaveLength(3);
    expect(appliesTo(view, parked(withdrawn('req-1')))).toBe(true);
  });

  it('orders equal event times by arrival', () => {
    const a = parked(decided('deny'));
    const b = parked({ ...withdrawn(), time: a.event.time });
    expect([b, a].sort(byEventTime)).toEqual([a, b]);
  });

  it('knows which grants an event attaches', () => {
    expect(grantsAttachedBy(approved('req-9', ['a', 'b']))).toEqual(['req-9:a', 'req-9:b']);
    expect(grantsAttachedBy(grantCreated('req-9', 'c'))).toEqual(['req-9:c']);
    expect(grantsAttachedBy(activated('req-9:a'))).toEqual([]);
  });
});
