import { mapServiceNowCatalogItem, registry } from '@grantline/contracts';
import type { ItsmRequestReceivedData } from '@grantline/contracts';
import { evaluateItsmRequest, requestIdOfTicket, ticketStatus } from './itsm-request.mapper';
import type { CatalogLookup } from '../requests/request-body.schema';
import { submitted } from '../testing/lifecycle.builders';

const catalog: CatalogLookup = { entitlement: (id) => (id === 'orders-staging-read' ? { requestable: true } : undefined), accessPackage: () => undefined };
const NOW = new Date('2025-06-02T10:00:00Z');
const ticket = { system: 'jira' as const, id: 'OPS-42' };
const generic: ItsmRequestReceivedData = {
  ticket,
  requesterId: 'alice',
  subject: { id: 'alice', kind: 'human' },
  items: { entitlementIds: ['orders-staging-read'] },
  justification: 'incident follow-up',
  duration: 'PT8H',
};

describe('ITSM intake', () => {
  it('turns a valid ticket into a submission on the itsm channel, with an id derived from the ticket', () => {
    const outcome = evaluateItsmRequest(generic, catalog, NOW);
    expect(outcome).toEqual({
      accepted: true,
      data: expect.objectContaining({ requestId: requestIdOfTicket(ticket), requesterId: 'alice', ticket, channel: 'itsm', duration: 'PT8H' }),
    });
    expect(requestIdOfTicket(ticket)).toBe(requestIdOfTicket({ ...ticket }));
    expect(requestIdOfTicket(ticket)).not.toBe(requestIdOfTicket({ ...ticket, id: 'OPS-43' }));
  });

  it('rejects a ticket breaking the business rules, with every reason', () => {
    const { duration: _d, ...noDuration } = generic;
    const outcome = evaluateItsmRequest({ ...noDuration, items: { entitlementIds: ['ghost'] } }, catalog, NOW);
    expect(outcome).toEqual({
      accepted: false,
      reasons: expect.arrayContaining([
        'duration: give either duration or endsAt (exactly one)',
        'entitlementIds.0: unknown entitlement "ghost": not in the catalogue',
      ]),
    });
  });

  it('maps a ServiceNow catalog item through the contract mapping onto the same rules', () => {
    const item = {
      sys_id: 'a'.repeat(32),
      number: 'RITM0010001',
      requested_for: 'bob',
      opened_by: 'alice',
      variables: { entitlements: 'orders-staging-read', justification: 'release checks', duration: '8' },
    };
    const outcome = evaluateItsmRequest(mapServiceNowCatalogItem(item), catalog, NOW);
    expect(outcome).toMatchObject({
      accepted: true,
      data: { subject: { id: 'bob', kind: 'human' }, duration: 'PT8H', ticket: { system: 'servicenow', id: 'RITM0010001' } },
    });
  });

  it('status events have ids derived from their cause, so a redelivery repeats the same event', () => {
    const cause = submitted();
    const a = ticketStatus(registry, cause, { ticket, requestId: 'req-1', status: 'received', reasons: [] });
    const b = ticketStatus(registry, cause, { ticket, requestId: 'req-1', status: 'received', reasons: [] });
    expect(a.id).toBe(b.id);
    expect(a).toMatchObject({ type: 'iga.itsm.status-changed.v1', causationid: cause.id, data: { ticket, status: 'received', requestId: 'req-1' } });
  });
});
