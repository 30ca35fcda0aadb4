import { evolveRequestStatus } from './request-status.projection';
import type { Evolution, RequestStatusView } from './request-status.projection';
import { activated, approved, decided, failedForGood, revoked, submitted, withdrawn } from '../testing/lifecycle.builders';
import type { Envelope } from '@grantline/contracts';

/** Given these events, the view and the ticket statuses they produced. */
function given(events: readonly Envelope[]): { view: RequestStatusView | undefined; ticket: string[] } {
  let view: RequestStatusView | undefined;
  const ticket: string[] = [];
  for (const event of events) {
    const evolution: Evolution | undefined = evolveRequestStatus(view, event);
    if (!evolution) continue;
    view = evolution.view;
    if (evolution.ticketStatus) ticket.push(evolution.ticketStatus.status);
  }
  return { view, ticket };
}

describe('request status projection', () => {
  it('given a submission, the request is submitted with a timeline entry by its requester', () => {
    const { view, ticket } = given([submitted()]);
    expect(view).toMatchObject({ requestId: 'req-1', status: 'submitted', requesterId: 'alice', grants: [] });
    expect(view?.timeline).toEqual([
      expect.objectContaining({ type: 'iga.request.submitted.v2', summary: expect.stringContaining('alice asked for orders-staging-read') }),
    ]);
    expect(ticket).toEqual(['received']);
  });

  it('follows auto-approval to provisioned and expiry to revoked', () => {
    const grant = 'req-1:orders-staging-read';
    const { view, ticket } = given([submitted(), decided('auto_approve'), approved(), activated(grant), revoked(grant)]);
    expect(view?.status).toBe('revoked');
    expect(view?.grants).toEqual([{ grantId: grant, entitlementId: 'orders-staging-read', state: 'revoked' }]);
    expect(ticket).toEqual(['received', 'approved', 'provisioned', 'revoked']);
    expect(view?.timeline).toHaveLength(5);
  });

  it('is provisioned only when every grant of the request is active', () => {
    const events = [submitted({ items: { entitlementIds: ['a', 'b'] } }), decided('auto_approve'), approved('req-1', ['a', 'b']), activated('req-1:a')];
    expect(given(events).view?.status).toBe('approved');
    expect(given([...events, activated('req-1:b')]).view?.status).toBe('provisioned');
  });

  it('records a policy denial with its reasons for the ticket', () => {
    const evolution = evolveRequestStatus(given([submitted()]).view, decided('deny'));
    expect(evolution?.view.status).toBe('denied');
    expect(evolution?.ticketStatus).toEqual({ status: 'denied', reasons: ['least privilege'] });
  });

  it('a route means pending approval', () => {
    expect(given([submitted(), decided('require_approval')]).view?.status).toBe('pending_approval');
  });

  it('a terminal provisioning failure fails the request', () => {
    const grant = 'req-1:orders-staging-read';
    expect(given([submitted(), decided('auto_approve'), approved(), failedForGood(grant)]).ticket).toEqual(['received', 'approved', 'failed']);
  });

  it('a withdrawal after a denial changes nothing about the outcome', () => {
    expect(given([submitted(), decided('deny'), withdrawn()]).view?.status).toBe('denied');
    expect(given([submitted(), withdrawn()]).view?.status).toBe('withdrawn');
  });

  it('the same event delivered twice changes nothing the second time', () => {
    const first = submitted();
    const decision = decided('auto_approve');
    const once = given([first, decision]);
    const twice = given([first, decision, decision, first]);
    expect(twice).toEqual(once);
    expect(evolveRequestStatus(once.view, decision)).toBeUndefined();
  });

  it('ignores events about requests it never saw', () => {
    expect(evolveRequestStatus(undefined, decided('deny'))).toBeUndefined();
    expect(evolveRequestStatus(undefined, activated('req-x:a'))).toBeUndefined();
  });
});
