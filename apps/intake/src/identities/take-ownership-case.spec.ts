import { IdentityOwnerChanged } from '@grantline/contracts';
import type { Actor, Envelope, IdentityOwnershipTransferOpenedData } from '@grantline/contracts';
import { fixedClock } from '@grantline/decider';
import { ProblemException } from '@grantline/http-edge';
import { TakeOwnershipCase } from '../commands/intake-commands';
import type { IntakePublisher, EventToWrite } from '../publishing/intake-publisher';
import type { IdentityDirectory } from '../status/request-status.store';
import { TakeOwnershipCaseHandler } from './identity-command-handlers';
import type { OwnershipCases, OwnershipCaseStatus } from './ownership-cases.store';
import type { OwnerTransfers } from './owner-transfers.store';

// Taking ownership through a case opened because the NHI's owner left: the owner change it writes, and when it is refused.

const NOW = '2026-03-05T09:00:00.000Z';
const maria: Actor = { kind: 'user', id: 'maria' };
const opened: IdentityOwnershipTransferOpenedData = {
  transferId: 'otr-1',
  identityId: 'ci-deploy',
  previousOwnerId: 'alice',
  assigneeIds: ['maria'],
  dueAt: '2026-03-16T09:00:00.000Z',
  openedAt: '2026-03-02T09:00:00.000Z',
  reason: 'owner_offboarded',
  grantsDisposition: 'revoke_now',
};
const people: Record<string, { kind: string; status: string; ownerId?: string }> = {
  'ci-deploy': { kind: 'ci_pipeline', status: 'active', ownerId: 'alice' },
  alice: { kind: 'human', status: 'offboarded' },
  maria: { kind: 'human', status: 'active' },
  bot: { kind: 'service_account', status: 'active', ownerId: 'maria' },
};

function handlerWith(status: OwnershipCaseStatus, ownerNow = 'alice') {
  const written: EventToWrite<unknown>[] = [];
  const closed: string[] = [];
  const publisher = {
    publish: async <T>(event: EventToWrite<T>) => {
      written.push(event as EventToWrite<unknown>);
      return { id: event.id, type: event.def.type, data: event.data } as unknown as Envelope<T>;
    },
  } as unknown as IntakePublisher;
  const directory = {
    standing: async (id: string) => people[id],
    responsibleFor: async (id: string) => (id === 'ci-deploy' ? { ownerId: ownerNow } : {}),
    changeOwner: async () => undefined,
  } as unknown as IdentityDirectory;
  const transfers = { ownerChanged: async () => undefined } as unknown as OwnerTransfers;
  const cases = {
    get: async (id: string) => (id === 'otr-1' ? { ...opened, status } : undefined),
    ownerChanged: async (identityId: string) => void closed.push(identityId),
  } as unknown as OwnershipCases;
  const handler = new TakeOwnershipCaseHandler(publisher, directory, transfers, cases, fixedClock(NOW));
  return { handler, written, closed };
}

const refusal = async (run: Promise<unknown>): Promise<ProblemException> => {
  const error = await run.catch((caught: unknown) => caught);
  expect(error).toBeInstanceOf(ProblemException);
  return error as ProblemException;
};

describe('taking ownership through a case opened because the owner left', () => {
  it('writes owner-changed with reason owner_offboarded, from the leaver to the assignee, and closes the case', async () => {
    const { handler, written, closed } = handlerWith('open');
    await handler.execute(new TakeOwnershipCase('ci-deploy', 'otr-1', 'evt-1', maria));
    expect(written).toHaveLength(1);
    expect(written[0]).toMatchObject({
      def: IdentityOwnerChanged,
      id: 'evt-1',
      subject: 'ci-deploy',
      actor: maria,
      time: NOW,
      data: { identityId: 'ci-deploy', previousOwnerId: 'alice', newOwnerId: 'maria', reason: 'owner_offboarded', changedBy: 'maria' },
    });
    expect(closed).toEqual(['ci-deploy']);
  });

  it('refuses (409) a case already accepted, writing nothing', async () => {
    const { handler, written } = handlerWith('accepted');
    expect((await refusal(handler.execute(new TakeOwnershipCase('ci-deploy', 'otr-1', 'evt-2', maria)))).problem.status).toBe(409);
    expect(written).toEqual([]);
  });

  it('refuses (409) when the NHI changed owner meanwhile: the case is stale', async () => {
    const { handler, written } = handlerWith('open', 'someone-else');
    expect((await refusal(handler.execute(new TakeOwnershipCase('ci-deploy', 'otr-1', 'evt-3', maria)))).problem).toMatchObject({
      status: 409,
      detail: expect.stringMatching(/stale/),
    });
    expect(written).toEqual([]);
  });

  it('refuses (409) a machine identity as the new owner: an NHI is owned by a person', async () => {
    const { handler, written } = handlerWith('open');
    expect((await refusal(handler.execute(new TakeOwnershipCase('ci-deploy', 'otr-1', 'evt-4', { kind: 'user', id: 'bot' })))).problem).toMatchObject({
      status: 409,
      detail: expect.stringMatching(/not a person/),
    });
    expect(written).toEqual([]);
  });
});
