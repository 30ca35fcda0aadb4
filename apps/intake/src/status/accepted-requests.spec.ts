import { decided, submitted, withdrawn } from '../testing/lifecycle.builders';
import { AcceptedRequests } from './accepted-requests';
import { evolveRequestStatus } from './request-status.projection';
import type { RequestStatusView } from './request-status.projection';

const projected = (...events: ReturnType<typeof submitted>[]): RequestStatusView | undefined =>
  events.reduce<RequestStatusView | undefined>((view, event) => evolveRequestStatus(view, event)?.view ?? view, undefined);

describe('accepted requests (what this instance accepted, on top of the read model)', () => {
  let clock: number;
  let accepted: AcceptedRequests;
  beforeEach(() => {
    clock = 0;
    accepted = new AcceptedRequests({ maxEntries: 2, ttlMs: 1_000 }, () => clock);
  });

  it('given a submission the read model does not have yet, then the view is built from it, as the projection will build it', () => {
    const submission = submitted({ requestId: 'req-a' });
    accepted.remember(submission);
    expect(accepted.view('req-a', undefined)).toEqual(projected(submission));
    expect(accepted.view('req-other', undefined)).toBeUndefined();
  });

  it('applies what it accepted on top of the projected view, and applies nothing twice', () => {
    const submission = submitted({ requestId: 'req-b' });
    const decision = decided('require_approval', 'req-b');
    const withdrawal = withdrawn('req-b');
    accepted.remember(submission);
    accepted.remember(withdrawal);
    accepted.remember(withdrawal);
    const view = accepted.view('req-b', projected(submission, decision));
    expect(view?.status).toBe('withdrawn');
    expect(view?.timeline.map((entry) => entry.eventId)).toEqual([submission.id, decision.id, withdrawal.id]);
  });

  it('forgets a request once the projection shows every event it accepted', () => {
    const submission = submitted({ requestId: 'req-c' });
    accepted.remember(submission);
    expect(accepted.view('req-c', projected(submission))).toEqual(projected(submission));
    expect(accepted.view('req-c', undefined)).toBeUndefined();
  });

  it('is bounded in number and age', () => {
    for (const id of ['req-1', 'req-2', 'req-3']) accepted.remember(submitted({ requestId: id }));
    expect(accepted.view('req-1', undefined)).toBeUndefined();
    expect(accepted.view('req-3', undefined)?.requestId).toBe('req-3');
    clock += 1_001;
    expect(accepted.view('req-3', undefined)).toBeUndefined();
  });
});
