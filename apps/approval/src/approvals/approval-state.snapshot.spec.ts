import { Module } from '@nestjs/common';
import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { CommandBus } from '@nestjs/cqrs';
import { GrantActivated, GrantCreated, fixtureMeta, fixtureOf, registry, topicOf } from '@grantline/contracts';
import type { Envelope } from '@grantline/contracts';
import { InMemoryMessageBus, InMemorySnapshotStore } from '@grantline/messaging';
import { MessagingModule, STATE_SNAPSHOTS } from '@grantline/messaging-nest';
import type { StateSnapshotSettings } from '@grantline/messaging-nest';
import { CERTIFICATION_CONFIG } from '../certification/certification.config';
import { CertificationStateService } from '../certification/certification-state.service';
import { DEFAULT_APPROVAL_POLICY } from '../domain/approval.policy';
import { catalogEvent, decided, organisation, submitted } from '../testing/approval-scenario';
import { APPROVAL_CONFIG, DEFAULT_DIRECTORY_WAIT_MS } from './approval.config';
import { ApprovalStateService } from './approval-state.service';

// Both replayed states of the approval service wired to snapshots (ADR 0037), as the service kit wires them: a
// start restores the newest snapshot of each and replays only the log after it.

const started: INestApplicationContext[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((app) => app.close()));
});

/** One start of both states over the log; without a store, the whole log is replayed (no snapshots). */
const start = async (
  bus: InMemoryMessageBus,
  store?: InMemorySnapshotStore,
): Promise<{ approvals: ApprovalStateService; certification: CertificationStateService }> => {
  const snapshots: StateSnapshotSettings | undefined = store && { store, minEvents: 1, compactEveryMs: 0 };
  @Module({
    imports: [MessagingModule.forRoot({ clientId: 'approval-snapshot-spec', registry, bus })],
    providers: [
      { provide: STATE_SNAPSHOTS, useValue: snapshots },
      { provide: APPROVAL_CONFIG, useValue: { policy: DEFAULT_APPROVAL_POLICY, directoryWaitMs: DEFAULT_DIRECTORY_WAIT_MS } },
      { provide: CERTIFICATION_CONFIG, useValue: { definitions: new Map() } },
      // Resuming routes and arming campaigns is the command handlers' business, not this spec's.
      { provide: CommandBus, useValue: { execute: async () => undefined } },
      ApprovalStateService,
      CertificationStateService,
    ],
  })
  class SnapshotSpecModule {}
  const app = await NestFactory.createApplicationContext(SnapshotSpecModule, { logger: false });
  started.push(app);
  const approvals = app.get(ApprovalStateService);
  const certification = app.get(CertificationStateService);
  await Promise.all([approvals.whenLoaded(), certification.whenLoaded()]);
  return { approvals, certification };
};

const publish = async (bus: InMemoryMessageBus, events: readonly Envelope[]): Promise<void> => {
  for (const event of events) await bus.publish(topicOf(registry.definitionOf(event.type), event.data), [event]);
};

const grant = (grantId: string): Envelope[] => [
  registry.encode(GrantCreated, { ...fixtureOf(GrantCreated).data, grantId, requestId: 'req-1' }, fixtureMeta({ id: `created-${grantId}` })),
  registry.encode(GrantActivated, { ...fixtureOf(GrantActivated).data, grantId }, fixtureMeta({ id: `activated-${grantId}` })),
];

describe('the approval and certification states with snapshots', () => {
  it('Given a start that snapshotted both replays, When the service starts again on the same log, Then each restores its snapshot, folds only what was published since and equals a full replay', async () => {
    const bus = new InMemoryMessageBus({ registry });
    const store = new InMemorySnapshotStore();
    await publish(bus, [...organisation(), catalogEvent(), submitted('req-1'), decided('req-1'), ...grant('req-1:orders-read')]);
    const first = await start(bus, store);
    await Promise.all([first.approvals.snapshotWritten(), first.certification.snapshotWritten()]);
    expect(store.writes).toBe(2);
    await publish(bus, [submitted('req-2'), decided('req-2'), ...grant('req-2:orders-read')]);

    const again = await start(bus, store);

    // The records published since, on each state's topics (certification reads the decisions topic too).
    expect(again.approvals.replayReport).toMatchObject({ events: 2, snapshot: { events: expect.any(Number) } });
    expect(again.certification.replayReport).toMatchObject({ events: 4, snapshot: { events: expect.any(Number) } });
    const replayed = await start(bus);
    expect(again.approvals.state).toEqual(replayed.approvals.state);
    expect(again.certification.state).toEqual(replayed.certification.state);
    expect(again.approvals.unrouted()).toEqual(['req-1', 'req-2']);
    expect(again.certification.grants().size).toBe(2);
  });
});
