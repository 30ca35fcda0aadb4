import { registry } from '@grantline/contracts';
import type { Envelope, ItsmStatusChangedData } from '@grantline/contracts';
import type { OwnershipCases } from '../identities/ownership-cases.store';
import type { OwnerTransfers } from '../identities/owner-transfers.store';
import { loadIntakeConfig } from '../config/intake-config';
import { activated, approved, decided, revoked, submitted } from '../testing/lifecycle.builders';
import { LifecycleEventsHandler } from './lifecycle-events.handler';
import { foldStatusBatch } from './request-status.batch';
import type { StatusDocument } from './request-status.batch';
import type { IdentityDirectory, RequestStatusStore, RevocationTickets } from './request-status.store';

interface Follower {
  revocationId: string;
  grantId: string;
  ticket: { system: 'servicenow' | 'jira' | 'other'; id: string };
  answered: boolean;
}

/** The handler over an in-memory read model: the store's own pure fold, its documents kept between batches. */
function sut(followers: Follower[] = []): { handler: LifecycleEventsHandler; answered: string[] } {
  let documents: StatusDocument[] = [];
  let arrival = 0;
  const statuses = {
    applyBatch: (events: readonly Envelope[]) => {
      const folded = foldStatusBatch(events, { documents, parked: [] }, () => (arrival += 1));
      const written = new Map(folded.writes.map(({ document }) => [document._id, document]));
      documents = [...documents.filter((document) => !written.has(document._id)), ...written.values()];
      return Promise.resolve(folded);
    },
  } as unknown as RequestStatusStore;
  const answered: string[] = [];
  const tickets = {
    followersOf: (grantIds: readonly string[]) => Promise.resolve(followers.filter((follower) => grantIds.includes(follower.grantId))),
    answered: (ids: readonly string[]) => {
      answered.push(...ids);
      return Promise.resolve();
    },
  } as unknown as RevocationTickets;
  const handler = new LifecycleEventsHandler(
    statuses,
    tickets,
    {} as IdentityDirectory,
    {} as OwnerTransfers,
    {} as OwnershipCases,
    registry,
    loadIntakeConfig({}),
  );
  return { handler, answered };
}

const statusOf = (output: Envelope): string => (output.data as ItsmStatusChangedData).status;

describe('lifecycle events handler', () => {
  const ticket = { system: 'servicenow' as const, id: 'RITM0010001' };
  const grant = 'req-h:orders-staging-read';

  it('given a batch holding a ticketed request whole, tells the ticket every status change in order, each caused by its own event', async () => {
    const events = [submitted({ requestId: 'req-h', channel: 'itsm', ticket }), decided('auto_approve', 'req-h'), approved('req-h'), activated(grant)];
    const outputs = await sut().handler.onLifecycleEvents(events);
    expect(outputs.map(statusOf)).toEqual(['received', 'approved', 'provisioned']);
    expect(outputs.map((output) => output.causationid)).toEqual([events[0]?.id, events[1]?.id, events[3]?.id]);
    expect(outputs.every((output) => (output.data as ItsmStatusChangedData).ticket.id === ticket.id)).toBe(true);
  });

  it('given a decision before its submission in one batch, tells the decision right after the submission that released it', async () => {
    const decision = decided('auto_approve', 'req-h');
    const submission = submitted({ requestId: 'req-h', channel: 'itsm', ticket });
    const outputs = await sut().handler.onLifecycleEvents([decision, submission]);
    expect(outputs.map((output) => [statusOf(output), output.causationid])).toEqual([
      ['received', submission.id],
      ['approved', decision.id],
    ]);
  });

  it('when the same batch is delivered again, tells the same statuses again (same ids, same order)', async () => {
    const { handler } = sut();
    const events = [decided('auto_approve', 'req-h'), submitted({ requestId: 'req-h', channel: 'itsm', ticket }), approved('req-h'), activated(grant)];
    const first = await handler.onLifecycleEvents(events);
    expect(await handler.onLifecycleEvents(events)).toEqual(first);
  });

  it('tells no ticket about a request that did not come from one, nor about a parked event', async () => {
    const events = [submitted({ requestId: 'req-h' }), decided('auto_approve', 'req-h')];
    expect(await sut().handler.onLifecycleEvents(events)).toEqual([]);
    expect(await sut().handler.onLifecycleEvents([decided('deny', 'req-h')])).toEqual([]);
  });

  it('answers a revocation ticket after the revoked grant, marked answered once, told again on a redelivery', async () => {
    const follower: Follower = { revocationId: 'rev-1', grantId: grant, ticket: { system: 'jira', id: 'CHG-1' }, answered: false };
    const { handler, answered } = sut([follower]);
    const events = [submitted({ requestId: 'req-h' }), approved('req-h'), activated(grant), revoked(grant)];
    const outputs = await handler.onLifecycleEvents(events);
    expect(outputs.map((output) => [statusOf(output), (output.data as ItsmStatusChangedData).ticket.id, output.causationid])).toEqual([
      ['revoked', 'CHG-1', events[3]?.id],
    ]);
    expect(answered).toEqual(['rev-1']);
    follower.answered = true;
    expect(await handler.onLifecycleEvents(events)).toEqual(outputs);
    expect(answered).toEqual(['rev-1']);
  });
});
