import { registry } from '@grantline/contracts';
import type { Envelope, ItsmStatusChangedData } from '@grantline/contracts';
import type { OwnershipCases } from '../identities/ownership-cases.store';
import type { OwnerTransfers } from '../identities/owner-transfers.store';
import { loadIntakeConfig } from '../config/intake-config';
import { activated, approved, decided, submitted } from '../testing/lifecycle.builders';
import { LifecycleEventsHandler } from './lifecycle-events.handler';
import { evolveRequestStatus } from './request-status.projection';
import type { RequestStatusView } from './request-status.projection';
import type { AppliedEvolution, IdentityDirectory, RequestStatusStore, RevocationTickets } from './request-status.store';

/** The evolutions a store would return for these events applied in order (an event's own, then those it released). */
function evolutionsOf(events: readonly Envelope[]): AppliedEvolution[] {
  let view: RequestStatusView | undefined;
  const applied: AppliedEvolution[] = [];
  for (const event of events) {
    const evolution = evolveRequestStatus(view, event);
    if (!evolution) continue;
    view = evolution.view;
    applied.push({ ...evolution, event });
  }
  return applied;
}

function sut(applied: AppliedEvolution[]): LifecycleEventsHandler {
  const statuses = { apply: () => Promise.resolve(applied) } as unknown as RequestStatusStore;
  const tickets = { waitingFor: () => Promise.resolve([]) } as unknown as RevocationTickets;
  return new LifecycleEventsHandler(statuses, tickets, {} as IdentityDirectory, {} as OwnerTransfers, {} as OwnershipCases, registry, loadIntakeConfig({}));
}

describe('lifecycle events handler', () => {
  const ticket = { system: 'servicenow' as const, id: 'RITM0010001' };
  const grant = 'req-h:orders-staging-read';

  it('tells the ticket every status change the event released from parking, in order, each caused by its own event', async () => {
    const events = [submitted({ requestId: 'req-h', channel: 'itsm', ticket }), decided('auto_approve', 'req-h'), approved('req-h'), activated(grant)];
    const outputs = await sut(evolutionsOf(events)).onLifecycleEvent(events[0] as Envelope);
    expect(outputs.map((output) => (output.data as ItsmStatusChangedData).status)).toEqual(['received', 'approved', 'provisioned']);
    expect(outputs.map((output) => output.causationid)).toEqual([events[0]?.id, events[1]?.id, events[3]?.id]);
    expect(outputs.every((output) => (output.data as ItsmStatusChangedData).ticket.id === ticket.id)).toBe(true);
  });

  it('tells no ticket about a request that did not come from one, nor about a parked event', async () => {
    const events = [submitted({ requestId: 'req-h' }), decided('auto_approve', 'req-h')];
    expect(await sut(evolutionsOf(events)).onLifecycleEvent(events[0] as Envelope)).toEqual([]);
    expect(await sut([]).onLifecycleEvent(decided('deny', 'req-h'))).toEqual([]);
  });
});
