import { EVENT_FIXTURES, fixtureMeta, fixtureOf } from '../fixtures/event.fixtures';
import { CatalogPublished, CatalogPublishedV1, CatalogPublishedV2 } from '../catalog/catalog-published.schema';
import { ConnectorProvisionRequested, ConnectorProvisionRequestedV1, ConnectorStateReported } from '../connectors/connector.schema';
import {
  ConnectorCredentialRotated,
  ConnectorCredentialRotatedV1,
  ConnectorRotationFailed,
  ConnectorRotationFailedV1,
  ConnectorRotationRequested,
  ConnectorRotationRequestedV1,
} from '../connectors/rotation.schema';
import { GrantCredentialRotated, GrantCredentialRotatedV1, GrantRotationRequested, GrantRotationRequestedV1 } from '../grants/grant-rotation.schema';
import { GrantCreated, grantIdOf, idempotencyKeyOf } from '../grants/grant.schema';
import { RequestSubmitted } from '../requests/request-submitted.schema';
import { TOPICS, ownerOfTopic } from '../topics/topic.catalogue';
import type { CatalogueEvent } from './catalogue';
import { CATALOGUE, createCatalogueRegistry, registry } from './catalogue';
import { isEvent, topicOf } from './event-definition';

// Irregular past participles we accept besides the regular `-ed`; extend deliberately, with a real fact.
const IRREGULAR_PAST = new Set([
  'sent',
  'built',
  'written',
  'taken',
  'given',
  'made',
  'held',
  'lost',
  'found',
  'drawn',
  'withdrawn',
  'begun',
  'run',
  'set',
  'paid',
  'kept',
  'shown',
  'known',
  'chosen',
  'done',
  'undone',
]);

function isPastTense(name: string): boolean {
  const lastWord = name.split('.').at(-1)?.split('-').at(-1) ?? '';
  return lastWord.endsWith('ed') || IRREGULAR_PAST.has(lastWord);
}

describe('the Grantline catalogue', () => {
  const definitions = registry.definitions();

  it('given the registry, then it holds every catalogue definition plus the frozen v1 submission, notification, dead letter, timer, policy decision, catalogue (v1, v2) and provision command', () => {
    expect(definitions.map((def) => def.type).sort()).toEqual(
      [
        ...CATALOGUE.map((def) => def.type),
        'iga.request.submitted.v1',
        'iga.notification.requested.v1',
        'iga.messaging.dead-lettered.v1',
        'iga.timer.fired.v1',
        'iga.policy.decision-recorded.v1',
        'iga.catalog.published.v1',
        'iga.catalog.published.v2',
        'iga.connector.provision-requested.v1',
        'iga.grant.rotation-requested.v1',
        'iga.grant.credential-rotated.v1',
        'iga.connector.rotation-requested.v1',
        'iga.connector.credential-rotated.v1',
        'iga.connector.rotation-failed.v1',
      ].sort(),
    );
  });

  it.each(definitions.map((def) => [def.type, def.topic] as const))(
    'given %s, then its topic %s is in the catalogue with exactly one owner',
    (_type, topic) => {
      const owners = [ownerOfTopic(topic)].filter((owner) => owner !== undefined);

      expect(owners).toHaveLength(1);
    },
  );

  it.each(definitions.map((def) => [def.name] as const))('given %s, then its name states a past-tense fact', (name) => {
    expect(isPastTense(name)).toBe(true);
  });

  it('given the past-tense check, then it rejects commands and present-tense names', () => {
    expect(['iga.grant.provision', 'iga.request.submit', 'iga.timer.fire'].filter(isPastTense)).toEqual([]);
  });

  it('given every fixed topic, then exactly one service owns it and the owners cover the architecture table', () => {
    const owners = Object.values(TOPICS).map((topic) => ownerOfTopic(topic));

    expect(owners).not.toContain(undefined);
    expect(new Set(owners)).toEqual(new Set(['intake', 'policy', 'approval', 'provisioning', 'scheduler', 'audit', 'notifier', 'itsm-upstream', 'messaging']));
  });

  it('given an event type, then only its topic owner writes it (no definition lands on a topic owned by two services)', () => {
    const writersByTopic = new Map<string, Set<string>>();
    for (const def of definitions) {
      const writers = writersByTopic.get(def.topic) ?? new Set<string>();
      writers.add(ownerOfTopic(def.topic) ?? 'nobody');
      writersByTopic.set(def.topic, writers);
    }

    expect([...writersByTopic.values()].every((writers) => writers.size === 1)).toBe(true);
  });

  it("given a connector command, when routing it, then it goes to that connector's commands topic, owned by provisioning", () => {
    const { data } = fixtureOf(ConnectorProvisionRequested);

    const topic = topicOf(ConnectorProvisionRequested, data);

    expect(topic).toBe('iga.connectors.postgres-orders.commands.v1');
    expect(ownerOfTopic(topic)).toBe('provisioning');
    expect(ownerOfTopic(topicOf(ConnectorStateReported, fixtureOf(ConnectorStateReported).data))).toBe('connector:postgres-orders');
  });

  it("given a fixed-topic event, when routing it, then its topic is the definition's", () => {
    expect(topicOf(GrantCreated, fixtureOf(GrantCreated).data)).toBe(TOPICS.grants);
  });

  it('given two registries built from the catalogue, then they are independent', () => {
    const mine = createCatalogueRegistry();

    expect(mine).not.toBe(registry);
    expect(mine.definitions().length).toBe(definitions.length);
  });

  it('given a decoded catalogue event, when comparing its type, then the data is narrowed', () => {
    const decoded = registry.decode(JSON.parse(JSON.stringify(registry.encode(RequestSubmitted, fixtureOf(RequestSubmitted).data, fixtureMeta()))));
    const event = decoded as CatalogueEvent;

    const describeEvent = (e: CatalogueEvent): string => (e.type === 'iga.request.submitted.v2' ? `${e.data.requestId} for ${e.data.subject.kind}` : 'other');

    expect(describeEvent(event)).toBe('req-0001 for service_account');
    if (!isEvent(decoded, RequestSubmitted)) throw new Error('expected a submission');
    expect(decoded.data.channel).toBe('api');
  });

  it('given the fixtures, then their count matches the registry (one per type, two identities)', () => {
    expect(new Set(EVENT_FIXTURES.map((f) => f.def.type)).size).toBe(definitions.length);
  });
});

describe('derived ids', () => {
  it('given a request and an entitlement, then the grant id and idempotency keys are deterministic', () => {
    const grantId = grantIdOf('req-0001', 'ent-pg-orders-read');

    expect(grantId).toBe(fixtureOf(GrantCreated).data.grantId);
    expect(idempotencyKeyOf(grantId, 'deprovision')).toBe('req-0001:ent-pg-orders-read:deprovision');
  });
});

describe('upcasting the catalogue and the provision command to v2', () => {
  const overTheWire = (envelope: unknown): unknown => JSON.parse(JSON.stringify(envelope));

  it('given a v1 catalogue, when decoded, then it is the same catalogue as v2 and no entitlement names a credential', () => {
    const v1 = registry.encode(CatalogPublishedV1, fixtureOf(CatalogPublishedV1).data, fixtureMeta());

    const decoded = registry.decode(overTheWire(v1));

    expect(decoded.type).toBe(CatalogPublished.type);
    expect(decoded.data).toEqual(v1.data);
    expect(isEvent(decoded, CatalogPublished) && decoded.data.entitlements.every((entitlement) => entitlement.credential === undefined)).toBe(true);
  });

  it('given a v2 entitlement naming a credential, when encoded as v1, then v1 refuses the field it never had (frozen)', () => {
    expect(() => registry.encode(CatalogPublishedV1, fixtureOf(CatalogPublished).data, fixtureMeta())).toThrow(/credential/);
  });

  it('given a v2 catalogue, when decoded, then it is the same catalogue as v3 and no system deactivates leavers accounts', () => {
    const v2 = registry.encode(CatalogPublishedV2, fixtureOf(CatalogPublishedV2).data, fixtureMeta());

    const decoded = registry.decode(overTheWire(v2));

    expect(decoded.type).toBe(CatalogPublished.type);
    expect(decoded.data).toEqual(v2.data);
    expect(isEvent(decoded, CatalogPublished) && decoded.data.systems.every((system) => system.deactivateLeaverAccounts === undefined)).toBe(true);
  });

  it('given a v3 system that deactivates leavers accounts, when encoded as v2, then v2 refuses the field it never had (frozen)', () => {
    expect(() => registry.encode(CatalogPublishedV2, fixtureOf(CatalogPublished).data, fixtureMeta())).toThrow(/deactivateLeaverAccounts/);
  });

  it('given a v1 provision command asking for a credential, when decoded, then the credential has no holders: nobody may retrieve it', () => {
    const v1 = registry.encode(ConnectorProvisionRequestedV1, fixtureOf(ConnectorProvisionRequestedV1).data, fixtureMeta());

    const decoded = registry.decode(overTheWire(v1));

    expect(decoded.type).toBe(ConnectorProvisionRequested.type);
    expect(decoded.data).toEqual({ ...v1.data, credential: { type: 'database_role', ttlSeconds: 3600, holders: [] } });
  });

  it('given a v1 provision command without a credential, when decoded, then it stays without one', () => {
    const { credential: _omitted, ...plain } = fixtureOf(ConnectorProvisionRequestedV1).data;
    const v1 = registry.encode(ConnectorProvisionRequestedV1, plain, fixtureMeta());

    expect(registry.decode(overTheWire(v1)).data).toEqual(plain);
  });
  it.each([
    [ConnectorRotationRequestedV1, ConnectorRotationRequested],
    [ConnectorCredentialRotatedV1, ConnectorCredentialRotated],
    [ConnectorRotationFailedV1, ConnectorRotationFailed],
    [GrantRotationRequestedV1, GrantRotationRequested],
    [GrantCredentialRotatedV1, GrantCredentialRotated],
  ] as const)('given a v1 %s (a break-glass rotation), when decoded, then it is rotation 1 of its grant and replaces no credential', (v1Def, current) => {
    const v1 = registry.encode(v1Def, fixtureOf(v1Def).data, fixtureMeta());

    const decoded = registry.decode(overTheWire(v1));

    expect(decoded.type).toBe(current.type);
    expect(decoded.data).toEqual({ ...v1.data, rotation: 1 });
  });

  it('given a v2 rotation command whose key names another rotation, then it is refused', () => {
    const data = { ...fixtureOf(ConnectorRotationRequested).data, rotation: 3 };

    expect(() => registry.encode(ConnectorRotationRequested, data, fixtureMeta())).toThrow(/idempotencyKey/);
  });
});
