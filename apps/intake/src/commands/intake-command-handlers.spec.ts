// The command side without infrastructure: the real handlers on the CommandBus over in-memory stores, with the clock
// pinned the way a spec overrides CLOCK, so every business time an event carries is known.
import { Module } from '@nestjs/common';
import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { CommandBus, CqrsModule } from '@nestjs/cqrs';
import type { Actor, Envelope, Identity } from '@grantline/contracts';
import { fixedClock } from '@grantline/decider';
import { ProblemException } from '@grantline/http-edge';
import { clockProvider } from '@grantline/service-kit';
import { IDENTITY_COMMAND_HANDLERS } from '../identities/identity-command-handlers';
import { OwnershipCases } from '../identities/ownership-cases.store';
import { OwnerTransfers } from '../identities/owner-transfers.store';
import type { OwnerTransferView } from '../identities/owner-transfers.store';
import { IntakePublisher } from '../publishing/intake-publisher';
import type { EventToWrite } from '../publishing/intake-publisher';
import { REQUEST_COMMAND_HANDLERS } from '../requests/request-command-handlers';
import { AcceptedRequests } from '../status/accepted-requests';
import { IdentityDirectory, RevocationTickets } from '../status/request-status.store';
import { AcceptOwnerTransfer, OffboardIdentity, ProposeOwnerTransfer, SubmitAccessRequest, WithdrawRequest } from './intake-commands';

const NOW = '2026-03-02T09:30:00.000Z';
const alice: Actor = { kind: 'user', id: 'alice' };

class RecordingPublisher {
  readonly written: EventToWrite<unknown>[] = [];
  async publish<T>(event: EventToWrite<T>): Promise<Envelope<T>> {
    this.written.push(event as EventToWrite<unknown>);
    return { id: event.id, type: event.def.type, subject: event.subject, time: event.time, actor: event.actor, data: event.data } as Envelope<T>;
  }
}

const identities = new Map<string, Identity>([
  ['bot-1', { identityId: 'bot-1', kind: 'service_account', displayName: 'Bot', status: 'active', ownerId: 'bob', attributes: {} } as Identity],
  ['alice', { identityId: 'alice', kind: 'human', displayName: 'Alice', status: 'active', attributes: {} }],
]);

const boot = async (given: { transfer?: OwnerTransferView } = {}) => {
  const publisher = new RecordingPublisher();
  const accepted = new AcceptedRequests();
  const directory = {
    standing: async (id: string) => identities.get(id),
    responsibleFor: async (id: string) => ({ ownerId: (identities.get(id) as { ownerId?: string } | undefined)?.ownerId }),
    ownedBy: async (id: string) =>
      [...identities.values()].filter((identity) => (identity as { ownerId?: string }).ownerId === id).map((identity) => identity.identityId),
    markOffboarded: async () => undefined,
  };
  const transfers = { get: async () => given.transfer, proposed: async () => undefined };
  @Module({
    imports: [CqrsModule.forRoot()],
    providers: [
      clockProvider(fixedClock(NOW)),
      { provide: IntakePublisher, useValue: publisher },
      { provide: AcceptedRequests, useValue: accepted },
      { provide: RevocationTickets, useValue: {} },
      { provide: IdentityDirectory, useValue: directory },
      { provide: OwnerTransfers, useValue: transfers },
      { provide: OwnershipCases, useValue: {} },
      ...REQUEST_COMMAND_HANDLERS,
      ...IDENTITY_COMMAND_HANDLERS,
    ],
  })
  class SpecModule {}
  const app = await NestFactory.createApplicationContext(SpecModule, { logger: false, abortOnError: false });
  await app.init();
  return { app, commands: app.get(CommandBus), publisher, accepted };
};

const statusOf = async (promise: Promise<unknown>): Promise<number | string> =>
  promise.then(
    () => 'resolved',
    (error: unknown) => (error instanceof ProblemException ? error.problem.status : String(error)),
  );

describe('intake command handlers', () => {
  let app: INestApplicationContext | undefined;
  afterEach(async () => app?.close());

  it('dates a submission at the instant the edge validated it, and remembers it in the accepted view (no read-model write)', async () => {
    const booted = await boot();
    app = booted.app;
    const submission = {
      subject: { id: 'alice', kind: 'human' as const },
      items: { entitlementIds: ['orders-staging-read'] },
      justification: 'why',
      duration: 'PT8H',
    };
    const at = new Date('2026-03-02T09:29:59.000Z');
    expect(await booted.commands.execute(new SubmitAccessRequest('req-1', 'ev-1', alice, submission, at))).toEqual({ eventId: 'ev-1' });
    expect(booted.publisher.written).toMatchObject([
      { id: 'ev-1', subject: 'req-1', time: at.toISOString(), data: { requestId: 'req-1', requesterId: 'alice', channel: 'api' } },
    ]);
    expect(booted.accepted.view('req-1', undefined)).toMatchObject({ requestId: 'req-1', status: 'submitted', timeline: [{ eventId: 'ev-1' }] });
  });

  it('dates a withdrawal by the clock, and refuses one of a request the edge found closed without writing', async () => {
    const open = await boot();
    app = open.app;
    await open.commands.execute(new WithdrawRequest('req-1', 'ev-2', alice, 'pending_approval'));
    expect(open.publisher.written).toMatchObject([{ id: 'ev-2', time: NOW, data: { requestId: 'req-1', withdrawnBy: 'alice' } }]);
    await app.close();
    const closed = await boot();
    app = closed.app;
    expect(await statusOf(closed.commands.execute(new WithdrawRequest('req-1', 'ev-3', alice, 'denied')))).toBe(409);
    expect(closed.publisher.written).toEqual([]);
  });

  it('offboards effective now by the clock unless told otherwise, listing the NHIs the leaver owns', async () => {
    const booted = await boot();
    app = booted.app;
    const hr: Actor = { kind: 'service', id: 'hr' };
    expect(await booted.commands.execute(new OffboardIdentity('bob', 'ev-4', hr, { kind: 'human', reason: 'leaver' }))).toEqual({
      eventId: 'ev-4',
      ownedIdentityIds: ['bot-1'],
    });
    expect(booted.publisher.written).toMatchObject([{ time: NOW, data: { identityId: 'bob', effectiveAt: NOW, ownedIdentityIds: ['bot-1'] } }]);
  });

  it('proposes an owner transfer at the clock time, and refuses a stale acceptance without writing', async () => {
    const booted = await boot();
    app = booted.app;
    await booted.commands.execute(
      new ProposeOwnerTransfer(
        'bot-1',
        'ev-5',
        { kind: 'user', id: 'bob' },
        { transferId: 'otr-1', currentOwnerId: 'bob', proposedOwnerId: 'alice', reason: 'team change' },
      ),
    );
    expect(booted.publisher.written).toMatchObject([{ time: NOW, data: { transferId: 'otr-1', proposedBy: 'bob', proposedAt: NOW } }]);
    await app.close();
    const transfer = {
      transferId: 'otr-1',
      identityId: 'bot-1',
      currentOwnerId: 'carol',
      proposedOwnerId: 'alice',
      proposedBy: 'carol',
      reason: 'x',
      proposedAt: NOW,
      status: 'proposed' as const,
    };
    const stale = await boot({ transfer });
    app = stale.app;
    expect(await statusOf(stale.commands.execute(new AcceptOwnerTransfer('bot-1', 'otr-1', 'ev-6', alice, 'carol')))).toBe(409);
    expect(stale.publisher.written).toEqual([]);
  });
});
