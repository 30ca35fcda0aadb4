import { resolve } from 'node:path';
import { Logger, Module } from '@nestjs/common';
import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { CqrsModule } from '@nestjs/cqrs';
import { IdentityOffboarded, PolicyBundleLoaded, TOPICS, registry } from '@grantline/contracts';
import type { DecisionRecordedData, Envelope } from '@grantline/contracts';
import { fixedClock } from '@grantline/decider';
import { InMemoryMessageBus, deterministicEventId } from '@grantline/messaging';
import { KafkaEventContext, MessagingModule } from '@grantline/messaging-nest';
import { loadBundleFromDirectory } from '@grantline/policy-engine';
import { ServiceMetrics } from '@grantline/service-kit';
import { ManualTimers, eventually } from '@grantline/testing';
import { digestHex } from '../domain';
import { INCIDENT, catalogEvent, identityEvents, onCallAlice, requestEvent, usedBreakGlass } from '../testing/policy-scenario.fixtures';
import { BundleAnnouncer, bundleLoadedIdOf } from './bundle-announcer';
import { DecideRequestHandler } from './decide-request.command';
import { DecisionsHandler } from './decisions.handler';
import { DirectoryWaitService, WAIT_TIMERS } from './directory-wait.service';
import { POLICY_CONFIG } from './policy.config';
import { POLICY_BUNDLE } from './policy-bundle.provider';
import { policyDeciderProvider } from './policy-decider.provider';
import { PolicyStateService } from './policy-state.service';

beforeAll(() => Logger.overrideLogger(false));

const shipped = loadBundleFromDirectory(resolve(__dirname, '../../../../policies'));
const FIXED_NOW = new Date('2025-06-02T12:00:00.000Z');
const clock = fixedClock(FIXED_NOW);
const decisionIdOf = (requestEventId: string, bundleDigest: string): string => deterministicEventId('decision', requestEventId, digestHex(bundleDigest));

const contextAt = (topic: string, offset: number): KafkaEventContext =>
  new KafkaEventContext({ topic, partition: 0, offset: String(offset), key: null, groupId: 'policy', attempt: 1, heartbeat: async () => undefined });

const WAIT_MS = 30_000;
const started: INestApplicationContext[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((app) => app.close()));
});

/**
 * The handler and its services, wired as DecisionsModule wires them (the command bus included), over a log that
 * already holds the given events (the `sut`).
 */
const sutOverWith = async (directoryWaitMs: number, events: readonly Envelope[]) => {
  const bus = new InMemoryMessageBus({ registry });
  bus.append(...events);
  const timers = new ManualTimers();
  @Module({
    imports: [MessagingModule.forRoot({ clientId: 'policy-decisions-spec', registry, bus }), CqrsModule.forRoot()],
    controllers: [DecisionsHandler],
    providers: [
      { provide: POLICY_BUNDLE, useValue: shipped },
      { provide: POLICY_CONFIG, useValue: { directoryWaitMs } },
      { provide: WAIT_TIMERS, useValue: timers },
      { provide: ServiceMetrics, useValue: new ServiceMetrics('policy') },
      policyDeciderProvider,
      PolicyStateService,
      DirectoryWaitService,
      DecideRequestHandler,
    ],
  })
  class DecisionsSpecModule {}
  const app = await NestFactory.createApplicationContext(DecisionsSpecModule, { logger: false });
  started.push(app);
  const stateService = app.get(PolicyStateService);
  const announcer = new BundleAnnouncer(shipped, bus, registry, stateService, clock);
  const published = async (): Promise<Envelope<DecisionRecordedData>[]> => {
    const decisions: Envelope<DecisionRecordedData>[] = [];
    await bus.replay({ topics: [TOPICS.decisions], handler: async (event) => void decisions.push(event as Envelope<DecisionRecordedData>) });
    return decisions;
  };
  /** Ends every wait, then reads the decisions once the service has published what the wait's end decided. */
  const afterTheWait = async (): Promise<Envelope<DecisionRecordedData>[]> => {
    timers.fireAll();
    return eventually(async () => {
      const decisions = await published();
      if (decisions.length === 0) throw new Error('nothing published yet');
      return decisions;
    });
  };
  return { bus, stateService, handler: app.get(DecisionsHandler), announcer, directoryWait: app.get(DirectoryWaitService), timers, published, afterTheWait };
};
const sutOver = (...events: Envelope[]) => sutOverWith(WAIT_MS, events);

const zoe = { kind: 'human', identityId: 'zoe', displayName: 'Zoe', status: 'active', managerId: 'bob', attributes: {} } as const;
const zoeRequest = (requestId: string) =>
  requestEvent(requestId, { requesterId: 'zoe', subject: { id: 'zoe', kind: 'human' }, items: { entitlementIds: ['wiki-read'] } });

const offboarding = (identityId: string): Envelope =>
  registry.encode(
    IdentityOffboarded,
    { identityId, kind: 'human', effectiveAt: '2025-06-02T11:00:00.000Z', reason: 'leaver', ownedIdentityIds: [] },
    {
      id: `offboarded-${identityId}`,
      source: 'spec',
      time: '2025-06-02T11:00:00.000Z',
      subject: identityId,
      correlationid: identityId,
      actor: { kind: 'system', id: 'spec' },
    },
  );

describe('DecisionsHandler', () => {
  it('rebuilds state from the log before deciding, and answers a request with one decision', async () => {
    // Given a log holding the identities and the catalogue
    const { handler } = await sutOver(...identityEvents(), catalogEvent());
    // When a request arrives
    const out = await handler.onRequestSubmitted(requestEvent('req-1'));
    // Then one decision is returned for the transport to publish, decided with that state
    expect(out).toHaveLength(1);
    expect(out[0]?.data).toMatchObject({ requestId: 'req-1', effect: 'require_approval', engine: 'cel' });
  });

  it('answers the same request delivered twice with the same decision id', async () => {
    const { handler } = await sutOver(...identityEvents(), catalogEvent());
    const request = requestEvent('req-2');
    const [first] = await handler.onRequestSubmitted(request);
    const [second] = await handler.onRequestSubmitted(request);
    expect(second?.id).toBe(first?.id);
    expect(second).toEqual(first);
  });

  it('keeps state current from live events, skipping those the start-up replay already applied', async () => {
    const { handler, bus } = await sutOver(...identityEvents(), catalogEvent());
    await handler.onRequestSubmitted(requestEvent('warm-up'));
    const replayedIdentities = bus.size(TOPICS.identities);
    // When Alice's offboarding arrives live at an offset the replay already covered, it is treated as already applied
    await handler.onIdentityOffboarded(offboarding('alice'), contextAt(TOPICS.identities, replayedIdentities - 1));
    const [stillActive] = await handler.onRequestSubmitted(requestEvent('req-3'));
    expect(stillActive?.data.effect).toBe('require_approval');
    // When it arrives at a new offset, it applies: Alice's next request is refused
    await handler.onIdentityOffboarded(offboarding('alice'), contextAt(TOPICS.identities, replayedIdentities));
    const [refused] = await handler.onRequestSubmitted(requestEvent('req-4'));
    expect(refused?.data).toMatchObject({ effect: 'deny', engine: 'builtin', reasons: ['subject "alice" is offboarded'] });
  });

  it('catches up before refusing a request that names an identity published just before it', async () => {
    // Given a started service, and a new identity on the log that the live consumer has not delivered yet
    const { handler, bus } = await sutOver(...identityEvents(), catalogEvent());
    await handler.onRequestSubmitted(requestEvent('warm-up'));
    bus.append(...identityEvents(registry, [{ kind: 'human', identityId: 'zoe', displayName: 'Zoe', status: 'active', managerId: 'bob', attributes: {} }]));
    // When Zoe's request arrives
    const [decision] = await handler.onRequestSubmitted(requestEvent('req-zoe', { requesterId: 'zoe', subject: { id: 'zoe', kind: 'human' } }));
    // Then it is decided by the engine with Zoe's record, not refused as unknown
    expect(decision?.data).toMatchObject({ engine: 'cel', effect: 'require_approval' });
  });

  it('reads the approvals log again for a break-glass request, to see an open review published just before it, and never for an ordinary one', async () => {
    // Given Alice on call, and her earlier break-glass use with its review open on the log, not delivered live yet
    const { handler, bus } = await sutOver(...identityEvents(), onCallAlice(), catalogEvent());
    await handler.onRequestSubmitted(requestEvent('warm-up'));
    bus.append(...usedBreakGlass('bg-1'));
    const replays = jest.spyOn(bus, 'replay');
    // When an ordinary request arrives, it is decided without reading the approvals log (the shipped bundle reads the
    // open reviews for break-glass requests only)
    const [ordinary] = await handler.onRequestSubmitted(requestEvent('req-ordinary'));
    expect(ordinary?.data.effect).toBe('require_approval');
    expect(replays.mock.calls.flatMap(([options]) => options.topics)).not.toContain(TOPICS.approvals);
    // When she breaks glass again, the approvals log is read first: the open review refuses it
    const emergency = requestEvent('req-bg-2', { duration: 'PT2H', ticket: INCIDENT, emergency: { breakGlass: true, incidentRef: INCIDENT } });
    const [refused] = await handler.onRequestSubmitted(emergency);
    expect(replays.mock.calls.flatMap(([options]) => options.topics)).toContain(TOPICS.approvals);
    expect(refused?.data).toMatchObject({ effect: 'deny', matchedRules: expect.arrayContaining(['break-glass-unreviewed-use']) });
  });

  it('decides on the newest record of a known identity published just before the request, not on the one it holds', async () => {
    // Given a started service that holds Alice as active, and her offboarding on the log, not delivered live yet
    const { handler, bus } = await sutOver(...identityEvents(), catalogEvent());
    const [before] = await handler.onRequestSubmitted(requestEvent('req-before'));
    expect(before?.data.effect).toBe('require_approval');
    bus.append(offboarding('alice'));
    // When Alice's next request arrives
    const [decision] = await handler.onRequestSubmitted(requestEvent('req-after'));
    // Then it is decided on the offboarding: a known identity's stale record is no licence to decide at once
    expect(decision?.data).toMatchObject({ effect: 'deny', engine: 'builtin', reasons: ['subject "alice" is offboarded'] });
  });

  it('still refuses what stays unknown after catching up, when configured not to wait', async () => {
    const { handler, directoryWait } = await sutOverWith(0, [...identityEvents(), catalogEvent()]);
    const [decision] = await handler.onRequestSubmitted(requestEvent('req-x', { items: { entitlementIds: ['no-such-thing'] } }));
    expect(decision?.data).toMatchObject({ engine: 'builtin', effect: 'deny' });
    expect(directoryWait.waiting().size).toBe(0);
  });

  it('denies, never throws, when the log holds no catalogue and the wait is over', async () => {
    const { handler, afterTheWait } = await sutOver(...identityEvents());
    expect(await handler.onRequestSubmitted(requestEvent('req-5'))).toEqual([]);
    const [decision] = await afterTheWait();
    expect(decision?.data).toMatchObject({ effect: 'deny', reasons: ['unknown entitlement "orders-read": it is not in the published catalogue'] });
  });
});

describe('DecisionsHandler: wait until known, then decide', () => {
  it('parks a request whose subject is not known yet, and decides it when the identity arrives', async () => {
    // Given a started service that has never seen Zoe
    const { handler, directoryWait, timers, published, bus } = await sutOver(...identityEvents(), catalogEvent());
    const request = zoeRequest('req-zoe-late');
    // When Zoe's request arrives before her identity
    const out = await handler.onRequestSubmitted(request);
    // Then nothing is decided yet: the request waits for her identity, with one timer of the configured wait
    expect(out).toEqual([]);
    expect(directoryWait.waiting()).toEqual(new Map([[request.id, ['identity:zoe']]]));
    expect([...timers.pending.values()].map((timer) => timer.ms)).toEqual([WAIT_MS]);
    expect(await published()).toEqual([]);

    // When her identity arrives
    const [upsert] = identityEvents(registry, [zoe]);
    bus.append(upsert as Envelope);
    await handler.onIdentityUpserted(upsert as Envelope, contextAt(TOPICS.identities, bus.size(TOPICS.identities) - 1));
    // Then the request is decided by the engine, published once, with the deterministic id, and its timer is gone
    const decisions = await published();
    expect(decisions).toHaveLength(1);
    expect(decisions[0]).toMatchObject({
      id: decisionIdOf(request.id, shipped.digest),
      causationid: request.id,
      data: { engine: 'cel', effect: 'auto_approve' },
    });
    expect(directoryWait.waiting().size).toBe(0);
    expect(timers.pending.size).toBe(0);

    // And a redelivery of the request now yields the same decision
    const [again] = await handler.onRequestSubmitted(request);
    expect(again).toEqual(decisions[0]);
  });

  it('decides a parked request whose identity a catch-up already applied, on the next state event', async () => {
    const { handler, directoryWait, published, bus } = await sutOver(...identityEvents(), catalogEvent());
    await handler.onRequestSubmitted(zoeRequest('req-zoe-catchup'));
    const [upsert] = identityEvents(registry, [zoe]);
    bus.append(upsert as Envelope);
    // A second unknown request triggers a catch-up, which applies Zoe's identity off the live consumer
    await handler.onRequestSubmitted(requestEvent('req-nobody', { subject: { id: 'nobody', kind: 'human' } }));
    // When the live consumer then delivers Zoe's identity (already applied), the parked request is still decided
    await handler.onIdentityUpserted(upsert as Envelope, contextAt(TOPICS.identities, bus.size(TOPICS.identities) - 1));
    expect((await published()).map((event) => event.data.requestId)).toEqual(['req-zoe-catchup']);
    expect([...directoryWait.waiting().values()]).toEqual([['identity:nobody']]);
  });

  it('refuses with the unknown-subject reason once the wait is over', async () => {
    const { handler, directoryWait, afterTheWait } = await sutOver(...identityEvents(), catalogEvent());
    const request = zoeRequest('req-zoe-never');
    await handler.onRequestSubmitted(request);
    // When the configured wait is over and Zoe never arrived
    const decisions = await afterTheWait();
    // Then the request is refused, naming the unknown subject, with the same id as any other decision of it
    expect(decisions).toHaveLength(1);
    expect(decisions[0]).toMatchObject({
      id: decisionIdOf(request.id, shipped.digest),
      data: { effect: 'deny', engine: 'builtin', reasons: ['unknown subject "zoe": no identity record'] },
    });
    expect(directoryWait.waiting().size).toBe(0);
  });

  it('decides a known but offboarded subject at once, without waiting', async () => {
    const { handler, directoryWait, timers } = await sutOver(...identityEvents(), catalogEvent());
    // Olga is offboarded, and the entitlement she names is unknown: waiting cannot change the answer
    const [decision] = await handler.onRequestSubmitted(
      requestEvent('req-olga', { requesterId: 'olga', subject: { id: 'olga', kind: 'human' }, items: { entitlementIds: ['no-such-thing'] } }),
    );
    expect(decision?.data).toMatchObject({ effect: 'deny', engine: 'builtin', reasons: expect.arrayContaining(['subject "olga" is offboarded']) });
    expect(directoryWait.waiting().size).toBe(0);
    expect(timers.pending.size).toBe(0);
  });

  it('keeps one timer for a parked request delivered twice', async () => {
    const { handler, timers } = await sutOver(...identityEvents(), catalogEvent());
    const request = zoeRequest('req-zoe-twice');
    expect(await handler.onRequestSubmitted(request)).toEqual([]);
    expect(await handler.onRequestSubmitted(request)).toEqual([]);
    expect(timers.pending.size).toBe(1);
  });

  it('clears its timers on shutdown and parks nothing after', async () => {
    const { handler, directoryWait, timers, published } = await sutOver(...identityEvents(), catalogEvent());
    await handler.onRequestSubmitted(zoeRequest('req-zoe-shutdown'));
    directoryWait.onApplicationShutdown();
    expect(timers.pending.size).toBe(0);
    expect(directoryWait.waiting().size).toBe(0);
    expect(await published()).toEqual([]);
  });

  it('at start, considers again every request on the log without a recorded decision', async () => {
    // Given a log where one request was decided, one was parked when the service stopped, and one is now decidable
    const decided = requestEvent('req-decided');
    const first = await sutOver(...identityEvents(), catalogEvent());
    const [decision] = await first.handler.onRequestSubmitted(decided);
    const stillUnknown = requestEvent('req-still-unknown', { subject: { id: 'nobody', kind: 'human' } });
    const nowKnown = zoeRequest('req-now-known');
    const { directoryWait, published } = await sutOver(
      ...identityEvents(),
      catalogEvent(),
      decided,
      decision as Envelope,
      stillUnknown,
      nowKnown,
      ...identityEvents(registry, [zoe]),
    );
    // When the service starts
    const resumed = await directoryWait.resumeUndecided();
    // Then the decidable one is published, the unknown one waits again, the decided one is left alone
    expect(resumed).toBe(2);
    const decisions = await published();
    expect(decisions.map((event) => event.data.requestId)).toEqual(['req-decided', 'req-now-known']);
    expect([...directoryWait.waiting().keys()]).toEqual([stillUnknown.id]);
  });
});

describe('BundleAnnouncer', () => {
  it('announces the bundle once per digest, with a deterministic id and the canonical files', async () => {
    // Given an empty log
    const { bus, announcer } = await sutOver();
    // When the service starts
    await announcer.onApplicationBootstrap();
    // Then the bundle is on the bundles topic
    const announced: Envelope[] = [];
    await bus.replay({ topics: [TOPICS.policyBundles], handler: async (event) => void announced.push(event) });
    expect(announced).toHaveLength(1);
    expect(announced[0]).toMatchObject({
      type: PolicyBundleLoaded.type,
      id: bundleLoadedIdOf(shipped.digest),
      time: FIXED_NOW.toISOString(),
      data: { digest: digestHex(shipped.digest), engine: 'cel', files: shipped.files.map((file) => ({ ...file })) },
    });

    // When the service starts again over the same log
    const { announcer: again } = { announcer: new BundleAnnouncer(shipped, bus, registry, new PolicyStateService(bus, registry), clock) };
    await again.onApplicationBootstrap();
    // Then nothing new is published
    expect(bus.size(TOPICS.policyBundles)).toBe(1);
  });
});
