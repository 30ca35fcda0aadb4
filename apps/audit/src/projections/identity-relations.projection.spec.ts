import { projectInMemory } from '../testing/in-memory-projection';
import { human, identityUpserted, offboarded, ownerChanged, serviceAccount } from '../testing/identity-events.fixture';
import { lifecycleEvents } from '../testing/lifecycle-events.fixture';
import { identityRelationsProjection } from './identity-relations.projection';
import type { AuditEvent } from './projection';

const at = (minute: number): string => new Date(Date.parse('2025-03-01T09:00:00.000Z') + minute * 60_000).toISOString();

/** Every order of `events` (they are few): the document must be the same in each. */
function permutations<T>(events: readonly T[]): T[][] {
  if (events.length <= 1) return [[...events]];
  return events.flatMap((event, index) => permutations([...events.slice(0, index), ...events.slice(index + 1)]).map((rest) => [event, ...rest]));
}

function expectOrderIndependent(events: readonly AuditEvent[], id: string): void {
  const expected = projectInMemory(identityRelationsProjection, events).get(id);
  for (const order of permutations(events)) expect(projectInMemory(identityRelationsProjection, order).get(id)).toEqual(expected);
}

describe('identity relations projection (who manages whom, who owns which NHI)', () => {
  it('Given a person upserted with a manager, When projected, Then the manager of record is hers', () => {
    const relations = projectInMemory(identityRelationsProjection, [identityUpserted(human('carol', 'maria'), { eventId: 'id-1', time: at(0) })]).get('carol');

    expect(relations).toMatchObject({ identityId: 'carol', kind: 'human', status: 'active', managerId: 'maria' });
    expect(relations).not.toHaveProperty('ownerId');
  });

  it('Given a service account upserted with an owner, When projected, Then the owner of record is its owner and it has no manager', () => {
    const relations = projectInMemory(identityRelationsProjection, [identityUpserted(serviceAccount('svc-a', 'dave'), { eventId: 'id-1', time: at(0) })]).get(
      'svc-a',
    );

    expect(relations).toMatchObject({ kind: 'service_account', ownerId: 'dave' });
    expect(relations).not.toHaveProperty('managerId');
  });

  it('Given two versioned upserts, When the older version arrives later with a later time, Then the higher version still wins, in any order', () => {
    const newer = identityUpserted(human('carol', 'maria'), { eventId: 'id-v5', time: at(0), sourceVersion: 5 });
    const lateDuplicate = identityUpserted(human('carol', 'bob'), { eventId: 'id-v3', time: at(10), sourceVersion: 3 });

    expect(projectInMemory(identityRelationsProjection, [lateDuplicate, newer]).get('carol')?.managerId).toBe('maria');
    expectOrderIndependent([newer, lateDuplicate], 'carol');
  });

  it('Given unversioned upserts, When projected in any order, Then the latest event time wins', () => {
    const first = identityUpserted(human('carol', 'bob'), { eventId: 'id-b', time: at(0) });
    const mover = identityUpserted(human('carol', 'maria'), { eventId: 'id-a', time: at(5) });

    expect(projectInMemory(identityRelationsProjection, [mover, first]).get('carol')?.managerId).toBe('maria');
    expectOrderIndependent([first, mover], 'carol');
  });

  it('Given a versioned record and a later unversioned correction, When projected in any order, Then the correction stands', () => {
    const hr = identityUpserted(human('carol', 'bob'), { eventId: 'id-hr', time: at(0), sourceVersion: 7 });
    const correction = identityUpserted(human('carol', 'maria'), { eventId: 'id-admin', time: at(5) });
    const staleHr = identityUpserted(human('carol', 'eve'), { eventId: 'id-hr-old', time: at(9), sourceVersion: 2 });

    expect(projectInMemory(identityRelationsProjection, [correction, staleHr, hr]).get('carol')?.managerId).toBe('maria');
    expectOrderIndependent([hr, correction, staleHr], 'carol');
  });

  it('Given an NHI whose owner changed after its record, When projected in any order, Then the new owner is its owner', () => {
    const record = identityUpserted(serviceAccount('svc-a', 'dave'), { eventId: 'id-1', time: at(0) });
    const transfer = ownerChanged({ identityId: 'svc-a', previousOwnerId: 'dave', newOwnerId: 'erin' }, 'own-1', at(5));

    expect(projectInMemory(identityRelationsProjection, [transfer, record]).get('svc-a')?.ownerId).toBe('erin');
    expectOrderIndependent([record, transfer], 'svc-a');
  });

  it('Given an owner change followed by a newer record naming another owner, When projected, Then the newer record wins', () => {
    const transfer = ownerChanged({ identityId: 'svc-a', newOwnerId: 'erin' }, 'own-1', at(5));
    const record = identityUpserted(serviceAccount('svc-a', 'frank'), { eventId: 'id-2', time: at(9) });

    expect(projectInMemory(identityRelationsProjection, [record, transfer]).get('svc-a')?.ownerId).toBe('frank');
    expectOrderIndependent([transfer, record], 'svc-a');
  });

  it('Given an owner change for a person, When projected, Then a person still has no owner', () => {
    const events = [
      identityUpserted(human('carol', 'maria'), { eventId: 'id-1', time: at(0) }),
      ownerChanged({ identityId: 'carol', newOwnerId: 'mallory' }, 'own-1', at(5)),
    ];

    expect(projectInMemory(identityRelationsProjection, events).get('carol')).not.toHaveProperty('ownerId');
  });

  it('Given a person offboarded after her record, When projected in any order, Then she is offboarded; a later record (a rehire) makes her active again', () => {
    const record = identityUpserted(human('maria'), { eventId: 'id-1', time: at(0) });
    const leaver = offboarded({ identityId: 'maria' }, 'off-1', at(5));
    const rehire = identityUpserted(human('maria'), { eventId: 'id-2', time: at(9) });

    expect(projectInMemory(identityRelationsProjection, [leaver, record]).get('maria')?.status).toBe('offboarded');
    expectOrderIndependent([record, leaver], 'maria');
    expect(projectInMemory(identityRelationsProjection, [rehire, leaver, record]).get('maria')?.status).toBe('active');
    expectOrderIndependent([record, leaver, rehire], 'maria');
  });

  it('Given an offboarding of an identity never upserted, When projected, Then it is known as offboarded with its kind', () => {
    expect(projectInMemory(identityRelationsProjection, [offboarded({ identityId: 'ghost', kind: 'api_key' }, 'off-1', at(0))]).get('ghost')).toMatchObject({
      kind: 'api_key',
      status: 'offboarded',
    });
  });

  it('Given any identity event already projected, When it is delivered again, Then the document is the same object', () => {
    const events = [
      identityUpserted(human('carol', 'bob'), { eventId: 'id-1', time: at(0), sourceVersion: 1 }),
      identityUpserted(human('carol', 'maria'), { eventId: 'id-2', time: at(1) }),
      ownerChanged({ identityId: 'carol', newOwnerId: 'x' }, 'own-1', at(2)),
      offboarded({ identityId: 'carol' }, 'off-1', at(3)),
    ];
    const documents = projectInMemory(identityRelationsProjection, events);
    for (const event of events) {
      const before = documents.get('carol');

      const after = identityRelationsProjection.apply(before, event, 'carol');

      expect(after).toBe(before);
    }
  });

  it('Given lifecycle events, When asked which identities they touch, Then none', () => {
    expect(lifecycleEvents({ requestId: 'req-1' }).flatMap((placed) => identityRelationsProjection.documentIdsOf(placed.event))).toEqual([]);
  });
});
