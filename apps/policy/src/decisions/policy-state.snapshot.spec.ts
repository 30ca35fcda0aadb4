import { Module } from '@nestjs/common';
import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { PolicyBundleLoaded, fixtureMeta, fixtureOf, registry, topicOf } from '@grantline/contracts';
import type { Envelope } from '@grantline/contracts';
import { InMemoryMessageBus, InMemorySnapshotStore } from '@grantline/messaging';
import { MessagingModule, STATE_SNAPSHOTS } from '@grantline/messaging-nest';
import type { StateSnapshotSettings } from '@grantline/messaging-nest';
import { IDENTITIES, catalogEvent, grantEvents, identityEvents } from '../testing/policy-scenario.fixtures';
import { policyStateCodec } from './folded-policy-state.codec';
import { PolicyStateService } from './policy-state.service';

// The policy state wired to snapshots (ADR 0037), as the service kit wires it: a start restores the newest snapshot
// and replays only the log after it, and the catch-ups that read the fenced topics from their beginning fold
// nothing the snapshot already holds.

const started: INestApplicationContext[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((app) => app.close()));
});

/** One start of the state over the log; without a store, the whole log is replayed (no snapshots). */
const start = async (bus: InMemoryMessageBus, store?: InMemorySnapshotStore): Promise<PolicyStateService> => {
  const snapshots: StateSnapshotSettings | undefined = store && { store, minEvents: 1, compactEveryMs: 0 };
  @Module({
    imports: [MessagingModule.forRoot({ clientId: 'policy-snapshot-spec', registry, bus })],
    providers: [{ provide: STATE_SNAPSHOTS, useValue: snapshots }, PolicyStateService],
  })
  class SnapshotSpecModule {}
  const app = await NestFactory.createApplicationContext(SnapshotSpecModule, { logger: false });
  started.push(app);
  const state = app.get(PolicyStateService);
  await state.whenLoaded();
  return state;
};

const publish = async (bus: InMemoryMessageBus, events: readonly Envelope[]): Promise<void> => {
  for (const event of events) await bus.publish(topicOf(registry.definitionOf(event.type), event.data), [event]);
};

const bundleLoaded = registry.encode(PolicyBundleLoaded, { ...fixtureOf(PolicyBundleLoaded).data, digest: 'c'.repeat(64) }, fixtureMeta({ id: 'bundle-c' }));
const history = (): Envelope[] => [
  ...identityEvents(),
  catalogEvent(),
  ...grantEvents({ requestId: 'req-maker', beneficiaryId: 'alice', entitlementId: 'payments-write', systemId: 'payments' }),
  bundleLoaded,
];

describe('the policy state with snapshots', () => {
  it('Given a start that snapshotted its replay, When the service starts again on the same log, Then it restores the snapshot, replays nothing more and holds the same state', async () => {
    const bus = new InMemoryMessageBus({ registry });
    const store = new InMemorySnapshotStore();
    await publish(bus, history());
    const first = await start(bus, store);
    await first.snapshotWritten();
    expect(store.writes).toBe(1);

    const again = await start(bus, store);

    expect(again.replayReport).toMatchObject({ events: 0, snapshot: { events: history().length } });
    expect(again.state).toEqual(first.state);
    expect(again.hasAnnounced('c'.repeat(64))).toBe(true);
  });

  it('Given a restored state, When a request catches up on the fenced topics from their beginning, Then only what was published since is folded', async () => {
    const bus = new InMemoryMessageBus({ registry });
    const store = new InMemorySnapshotStore();
    await publish(bus, history());
    await (await start(bus, store)).snapshotWritten();
    const restored = await start(bus, store);
    const alice = IDENTITIES.find((identity) => identity.identityId === 'alice')!;
    await publish(bus, identityEvents(registry, [{ ...alice, team: 'payments' }]));

    await restored.catchUp(restored.catchUpMark());

    const replayed = await start(bus);
    expect(restored.replayReport?.snapshot).toBeDefined();
    expect(restored.current.identities.get('alice')?.team).toBe('payments');
    expect(policyStateCodec.encode(restored.state)).toEqual(policyStateCodec.encode(replayed.state));
    expect(restored.state).toEqual(replayed.state);
  });
});
