import { resolve } from 'node:path';
import { Logger } from '@nestjs/common';
import { IdentityOffboarded, PolicyBundleLoaded, TOPICS, registry } from '@grantline/contracts';
import type { Envelope } from '@grantline/contracts';
import { KafkaEventContext } from '@grantline/messaging-nest';
import { loadBundleFromDirectory } from '@grantline/policy-engine';
import { catalogEvent, identityEvents, requestEvent } from '../testing/policy-scenario.fixtures';
import { InMemoryLogBus } from '../testing/in-memory-log.bus';
import { BundleAnnouncer, bundleLoadedIdOf } from './bundle-announcer';
import { DecisionsHandler } from './decisions.handler';
import { digestHex } from './decision-record.mapper';
import { PolicyStateService } from './policy-state.service';

beforeAll(() => Logger.overrideLogger(false));

const shipped = loadBundleFromDirectory(resolve(__dirname, '../../../../policies'));
const FIXED_NOW = new Date('2025-06-02T12:00:00.000Z');

const contextAt = (topic: string, offset: number): KafkaEventContext =>
  new KafkaEventContext({ topic, partition: 0, offset: String(offset), key: null, groupId: 'policy', attempt: 1, heartbeat: async () => undefined });

/** The handler and its state service over a log that already holds the given events (the `sut`). */
const sutOver = async (...events: Envelope[]) => {
  const bus = new InMemoryLogBus(registry);
  await bus.append(...events);
  const stateService = new PolicyStateService(bus, registry);
  const handler = new DecisionsHandler(stateService, shipped, registry);
  const announcer = new BundleAnnouncer(shipped, bus, registry, stateService, () => FIXED_NOW);
  return { bus, stateService, handler, announcer };
};

const offboarding = (identityId: string): Envelope =>
  registry.encode(
    IdentityOffboarded,
    { identityId, kind: 'human', effectiveAt: '2025-06-02T11:00:00.000Z', reason: 'leaver', ownedIdentityIds: [] },
    { id: `offboarded-${identityId}`, source: 'spec', time: '2025-06-02T11:00:00.000Z', subject: identityId, correlationid: identityId, actor: { kind: 'system', id: 'spec' } },
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
    await bus.append(
      ...identityEvents(registry, [{ kind: 'human', identityId: 'zoe', displayName: 'Zoe', status: 'active', managerId: 'bob', attributes: {} }]),
    );
    // When Zoe's request arrives
    const [decision] = await handler.onRequestSubmitted(requestEvent('req-zoe', { requesterId: 'zoe', subject: { id: 'zoe', kind: 'human' } }));
    // Then it is decided by the engine with Zoe's record, not refused as unknown
    expect(decision?.data).toMatchObject({ engine: 'cel', effect: 'require_approval' });
  });

  it('still refuses what stays unknown after catching up', async () => {
    const { handler } = await sutOver(...identityEvents(), catalogEvent());
    const [decision] = await handler.onRequestSubmitted(requestEvent('req-x', { items: { entitlementIds: ['no-such-thing'] } }));
    expect(decision?.data).toMatchObject({ engine: 'builtin', effect: 'deny' });
  });

  it('denies, never throws, when the log holds no catalogue', async () => {
    const { handler } = await sutOver(...identityEvents());
    const [decision] = await handler.onRequestSubmitted(requestEvent('req-5'));
    expect(decision?.data.effect).toBe('deny');
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
    const { announcer: again } = { announcer: new BundleAnnouncer(shipped, bus, registry, new PolicyStateService(bus, registry), () => FIXED_NOW) };
    await again.onApplicationBootstrap();
    // Then nothing new is published
    expect(bus.size(TOPICS.policyBundles)).toBe(1);
  });
});
