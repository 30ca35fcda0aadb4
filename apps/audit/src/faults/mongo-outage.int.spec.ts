// Fault injection, fail closed (ADR 0009): the audit's MongoDB-wire store goes away for 30 s while lifecycle events
// keep arriving. The audit runs in-process as main.ts runs it (service kit, the same retry policy, real Kafka in a
// namespace of its own) against a FerretDB of this spec's own, which is stopped and started again on the same port
// with the same data; the shared servers of jest's global setup are never touched. Afterwards every read model must
// equal the fold of every published event (nothing skipped), nothing may be dead-lettered, and while the store was
// down readiness must have said so.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Type } from '@nestjs/common';
import { TOPICS, registry } from '@grantline/contracts';
import type { Envelope } from '@grantline/contracts';
import { KafkaMessageBus, silentLogger } from '@grantline/messaging';
import type { MessageBus } from '@grantline/messaging';
import { MESSAGE_BUS } from '@grantline/messaging-nest';
import { startService } from '@grantline/service-kit';
import type { RunningService } from '@grantline/service-kit';
import { eventually, infraEndpoints, startPrivateFerretdb, uniqueName } from '@grantline/testing';
import type { PrivateServer } from '@grantline/testing';
import { ReadModelStore } from '../persistence/read-model.store';
import { AUDIT_PROJECTIONS } from '../projections/audit.projections';
import type { AuditEvent } from '../projections/projection';
import { AuditQueryService } from '../query/audit-query.service';
import { projectInMemory } from '../testing/in-memory-projection';
import { lifecycleEvents } from '../testing/lifecycle-events.fixture';
import type { PlacedEvent } from '../testing/lifecycle-events.fixture';

const { kafkaBrokers } = infraEndpoints();
const namespace = uniqueName('audit-mongo-down').replace(/_/g, '-');
const run = uniqueName('mdown');
/** The fault: how long the store stays down. Holding it down is the fault itself, so a timer is right here. */
const OUTAGE_MS = 30_000;
/** Production reports a partition stalled after 60 s; this spec's outage is 30 s, so the consumer is told 5 s. */
const STALL_AFTER_MS = 5_000;
const ENV_KEYS = [
  'KAFKA_TOPIC_NAMESPACE',
  'MONGO_URL',
  'MONGO_DB',
  'PORT',
  'AUTH_MODE',
  'DEV_ISSUER_DIR',
  'LOG_LEVEL',
  'CONSUMER_STALL_AFTER_MS',
  'AUDIT_SIGNING_KEY_FILE',
] as const;

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
/** As the store keeps documents: plain JSON. */
const stored = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

interface Readiness {
  readonly status: number;
  readonly body: { error?: Record<string, { status: string; consumers?: { state: string; topic: string }[] }> };
}

describe('audit while its MongoDB is down for 30 s (fail closed)', () => {
  const savedEnv = Object.fromEntries(ENV_KEYS.map((key) => [key, process.env[key]]));
  let store: PrivateServer;
  let bus: KafkaMessageBus;
  let service: RunningService | undefined;
  let issuerDir: string;

  const ready = async (): Promise<Readiness> => {
    const response = await fetch(`${service!.url}/health/ready`, { signal: AbortSignal.timeout(10_000) });
    return { status: response.status, body: (await response.json()) as Readiness['body'] };
  };
  /** One request's whole story (submitted … revoked, 12 events on five topics). */
  const publishLifecycle = async (requestId: string): Promise<PlacedEvent[]> => {
    const placed = lifecycleEvents({ requestId, subjectId: `svc-${requestId}` });
    for (const { topic, event } of placed) await bus.publisher.publish(topic, [event]);
    return placed;
  };
  /** What the service's own consumers report, as its readiness sees it. */
  const consumerProblems = async (serviceBus: MessageBus) => ((await serviceBus.health()).consumers ?? []).flatMap((consumer) => consumer.problems);
  const deadLetters = async (): Promise<Envelope[]> => {
    const found: Envelope[] = [];
    await bus.replay({ topics: [TOPICS.deadLetter], handler: async (event) => void found.push(event) });
    return found;
  };

  beforeAll(async () => {
    store = await startPrivateFerretdb();
    issuerDir = mkdtempSync(join(tmpdir(), 'audit-mongo-down-'));
    // The audit refuses to start without its checkpoint signing key.
    writeFileSync(join(issuerDir, 'audit-signing.pem'), generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
    bus = new KafkaMessageBus({ clientId: uniqueName('audit-mongo-down-spec'), brokers: kafkaBrokers, registry, logger: silentLogger, namespace });
    await bus.connect();
    const topics = [...new Set(lifecycleEvents().map(({ topic }) => topic)), TOPICS.deadLetter];
    await bus.ensureTopics(topics.map((topic) => ({ topic, partitions: 2 })));
    Object.assign(process.env, {
      KAFKA_TOPIC_NAMESPACE: namespace,
      MONGO_URL: store.url,
      MONGO_DB: uniqueName('audit_mongo_down'),
      PORT: '0',
      AUTH_MODE: 'dev',
      DEV_ISSUER_DIR: issuerDir,
      AUDIT_SIGNING_KEY_FILE: join(issuerDir, 'audit-signing.pem'),
      // retries are warnings; what matters is asserted
      LOG_LEVEL: 'fatal',
      // A failing partition is reported stalled after 5 s instead of the default 60 s.
      CONSUMER_STALL_AFTER_MS: String(STALL_AFTER_MS),
    });
    // The kit reads its environment when the module is declared: import it only now.
    const { AppModule } = (await import('../app.module')) as { AppModule: Type<unknown> };
    // As main.ts starts it: a failing projection is retried until the database heals.
    service = await startService(AppModule, {
      serviceName: 'audit',
      groupId: uniqueName('audit_mongo_down'),
      fromBeginning: true,
      retry: { maxAttempts: Number.MAX_SAFE_INTEGER, initialDelayMs: 200, maxDelayMs: 30_000 },
    });
  }, 120_000);

  afterAll(async () => {
    await service?.stop();
    await bus?.deleteNamespace().catch(() => undefined);
    await bus?.disconnect();
    await store?.dispose();
    for (const key of ENV_KEYS) {
      if (savedEnv[key] === undefined) delete process.env[key];
      else process.env[key] = savedEnv[key];
    }
    rmSync(issuerDir, { recursive: true, force: true });
  }, 60_000);

  it('loses nothing, dead-letters nothing, and is not ready (consumer stalled) while the store is down', async () => {
    const readModels = service!.app.get(ReadModelStore);
    const queries = service!.app.get(AuditQueryService);
    const serviceBus = service!.app.get<MessageBus>(MESSAGE_BUS);
    const published = new Map<string, PlacedEvent[]>();
    const requestIds = Array.from({ length: 10 }, (_, i) => `req-${run}-${String(i + 1).padStart(2, '0')}`);
    const [before, during, after] = [requestIds.slice(0, 3), requestIds.slice(3, 8), requestIds.slice(8)];

    // Given a stream of lifecycles the audit is working through
    for (const requestId of before) published.set(requestId, await publishLifecycle(requestId));
    await eventually(async () => expect((await queries.timeline(before[0]!))?.entries).toHaveLength(12), { timeoutMs: 60_000, intervalMs: 250 });

    // When its store goes away for 30 s while the events keep coming
    await store.stop();
    const down = Date.now();
    const gap = Math.floor((OUTAGE_MS * 0.6) / during.length);
    for (const requestId of during) {
      published.set(requestId, await publishLifecycle(requestId));
      await pause(gap);
    }

    // Then, while it is down: not ready, the store named and the consumer reported stalled; nothing dead-lettered
    const notReady = await eventually(
      async () => {
        const answer = await ready();
        expect(answer.status).toBe(503);
        expect(answer.body.error?.['mongo-ping']?.status).toBe('down');
        expect(answer.body.error?.['kafka']?.consumers).toEqual(expect.arrayContaining([expect.objectContaining({ state: 'stalled' })]));
        return answer;
      },
      { timeoutMs: Math.max(1_000, OUTAGE_MS - (Date.now() - down) - 1_000), intervalMs: 500 },
    );
    expect(notReady.body.error?.['kafka']?.consumers?.every((problem) => problem.state === 'stalled')).toBe(true);
    expect(await consumerProblems(serviceBus)).toEqual(expect.arrayContaining([expect.objectContaining({ state: 'stalled' })]));
    expect(serviceBus.metrics()).toMatchObject({ deadLettered: 0 });
    expect(serviceBus.metrics().retried).toBeGreaterThan(0);

    // When it comes back (same data) after the 30 s, and more events follow
    await pause(Math.max(0, OUTAGE_MS - (Date.now() - down)));
    await store.start();
    for (const requestId of after) published.set(requestId, await publishLifecycle(requestId));

    // Then every read model equals the fold of every published event: each request's whole story is there
    const events = [...published.values()].flatMap((placed) => placed.map(({ event }) => event as AuditEvent));
    await eventually(
      async () => {
        for (const requestId of published.keys())
          expect({ requestId, entries: (await queries.timeline(requestId))?.entries.length }).toEqual({ requestId, entries: 12 });
        for (const projection of AUDIT_PROJECTIONS) {
          const expected = [...projectInMemory(projection, events).values()].sort((a, b) => (a._id < b._id ? -1 : a._id > b._id ? 1 : 0));
          expect({ projection: projection.name, documents: await readModels.find(projection, {}) }).toEqual({
            projection: projection.name,
            documents: stored(expected),
          });
        }
      },
      { timeoutMs: 120_000, intervalMs: 1_000 },
    );
    // ...it is ready again, with no consumer problem left
    await eventually(async () => expect((await ready()).status).toBe(200), { timeoutMs: 60_000, intervalMs: 500 });
    expect(await consumerProblems(serviceBus)).toEqual([]);
    // ...and nothing went to the dead-letter topic
    expect(serviceBus.metrics()).toMatchObject({ deadLettered: 0, halted: 0 });
    expect(await deadLetters()).toEqual([]);
  }, 300_000);
});
