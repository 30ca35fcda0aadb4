// Fault injection, fail closed (ADR 0009): the intake's MongoDB-wire store goes away for 30 s while lifecycle events
// keep arriving. The intake runs in-process as main.ts runs it (service kit, real Kafka in a namespace of its own)
// against a FerretDB of this spec's own, which is stopped and started again on the same port with the same data; the
// shared servers of jest's global setup are never touched. Afterwards every event must be in the request-status view
// (nothing skipped), nothing may be dead-lettered, and while the store was down readiness must have said so.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Type } from '@nestjs/common';
import { TOPICS, registry } from '@grantline/contracts';
import type { Envelope } from '@grantline/contracts';
import { KafkaMessageBus, silentLogger } from '@grantline/messaging';
import type { MessageBus } from '@grantline/messaging';
import { MESSAGE_BUS } from '@grantline/messaging-nest';
import { startConsumerGroups, startService } from '@grantline/service-kit';
import type { RunningService } from '@grantline/service-kit';
import { eventually, infraEndpoints, startPrivateFerretdb, uniqueName } from '@grantline/testing';
import type { PrivateServer } from '@grantline/testing';
import { RequestStatusStore } from '../status/request-status.store';
import { activated, approved, decided, grantCreated, submitted } from '../testing/lifecycle.builders';

const { kafkaBrokers } = infraEndpoints();
const namespace = uniqueName('intake-mongo-down').replace(/_/g, '-');
const run = uniqueName('mdown');
/** The fault: how long the store stays down. Holding it down is the fault itself, so a timer is right here. */
const OUTAGE_MS = 30_000;
/** Production reports a partition stalled after 60 s; this spec's outage is 30 s, so the consumer is told 5 s. */
const STALL_AFTER_MS = 5_000;
const ENTITLEMENT = 'orders-staging-read';
const ENV_KEYS = ['KAFKA_TOPIC_NAMESPACE', 'MONGO_URL', 'MONGO_DB', 'PORT', 'AUTH_MODE', 'DEV_ISSUER_DIR', 'LOG_LEVEL', 'CONSUMER_STALL_AFTER_MS'] as const;

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** One request, submitted → decided → approved → provisioned, as the intake hears it from four topics. */
function lifecycle(requestId: string): Envelope[] {
  const grantId = `${requestId}:${ENTITLEMENT}`;
  return [
    submitted({ requestId, requesterId: 'alice', subject: { id: 'alice', kind: 'human' } }),
    decided('auto_approve', requestId),
    approved(requestId, [ENTITLEMENT]),
    grantCreated(requestId, ENTITLEMENT),
    activated(grantId),
  ];
}

interface Readiness {
  readonly status: number;
  readonly body: { error?: Record<string, { status: string; consumers?: { state: string; topic: string }[] }> };
}

describe('intake while its MongoDB is down for 30 s (fail closed)', () => {
  const savedEnv = Object.fromEntries(ENV_KEYS.map((key) => [key, process.env[key]]));
  let store: PrivateServer;
  let bus: KafkaMessageBus;
  let service: RunningService | undefined;
  let issuerDir: string;

  const ready = async (): Promise<Readiness> => {
    const response = await fetch(`${service!.url}/health/ready`, { signal: AbortSignal.timeout(10_000) });
    return { status: response.status, body: (await response.json()) as Readiness['body'] };
  };
  const publishLifecycle = async (requestId: string): Promise<Envelope[]> => {
    const events = lifecycle(requestId);
    for (const event of events) await bus.publisher.publish(registry.definitionOf(event.type).topic, [event]);
    return events;
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
    issuerDir = mkdtempSync(join(tmpdir(), 'intake-mongo-down-'));
    bus = new KafkaMessageBus({ clientId: uniqueName('intake-mongo-down-spec'), brokers: kafkaBrokers, registry, logger: silentLogger, namespace });
    await bus.connect();
    await bus.ensureTopics([TOPICS.requests, TOPICS.decisions, TOPICS.approvals, TOPICS.grants, TOPICS.deadLetter].map((topic) => ({ topic, partitions: 2 })));
    Object.assign(process.env, {
      KAFKA_TOPIC_NAMESPACE: namespace,
      MONGO_URL: store.url,
      MONGO_DB: uniqueName('intake_mongo_down'),
      PORT: '0',
      AUTH_MODE: 'dev',
      DEV_ISSUER_DIR: issuerDir,
      // retries are warnings; what matters is asserted
      LOG_LEVEL: 'fatal',
      // A failing partition is reported stalled after 5 s instead of the default 60 s.
      CONSUMER_STALL_AFTER_MS: String(STALL_AFTER_MS),
    });
    // The kit reads its environment when the module is declared: import it only now.
    const { AppModule } = (await import('../app.module')) as { AppModule: Type<unknown> };
    const options = { serviceName: 'intake', groupId: uniqueName('intake_mongo_down'), openApi: false, fromBeginning: true };
    service = await startService(AppModule, options);
    await startConsumerGroups(service, options);
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
    const statuses = service!.app.get(RequestStatusStore);
    const serviceBus = service!.app.get<MessageBus>(MESSAGE_BUS);
    const published = new Map<string, Envelope[]>();
    const requestIds = Array.from({ length: 12 }, (_, i) => `req-${run}-${String(i + 1).padStart(2, '0')}`);
    const [before, during, after] = [requestIds.slice(0, 4), requestIds.slice(4, 10), requestIds.slice(10)];

    // Given a stream of lifecycles the intake is working through
    for (const requestId of before) published.set(requestId, await publishLifecycle(requestId));
    await eventually(async () => expect((await statuses.get(before[0]!))?.status).toBe('provisioned'), { timeoutMs: 60_000, intervalMs: 250 });

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
    expect(await consumerProblems(serviceBus)).toEqual(expect.arrayContaining([expect.objectContaining({ state: 'stalled' })]));
    expect(serviceBus.metrics()).toMatchObject({ deadLettered: 0 });
    expect(serviceBus.metrics().retried).toBeGreaterThan(0);
    expect(notReady.body.error?.['kafka']?.consumers?.every((problem) => problem.state === 'stalled')).toBe(true);

    // When it comes back (same data) after the 30 s, and more events follow
    await pause(Math.max(0, OUTAGE_MS - (Date.now() - down)));
    await store.start();
    for (const requestId of after) published.set(requestId, await publishLifecycle(requestId));

    // Then every event of every request is in its view, in full
    await eventually(
      async () => {
        for (const [requestId, events] of published) {
          const view = await statuses.get(requestId);
          expect({ requestId, status: view?.status }).toEqual({ requestId, status: 'provisioned' });
          expect(view!.timeline.map((entry) => entry.eventId).sort()).toEqual(events.map((event) => event.id).sort());
          expect(view!.grants).toEqual([{ grantId: `${requestId}:${ENTITLEMENT}`, entitlementId: ENTITLEMENT, state: 'active' }]);
        }
      },
      { timeoutMs: 120_000, intervalMs: 500 },
    );
    // ...it is ready again, with no consumer problem left
    await eventually(async () => expect((await ready()).status).toBe(200), { timeoutMs: 60_000, intervalMs: 500 });
    expect(await consumerProblems(serviceBus)).toEqual([]);
    // ...and nothing went to the dead-letter topic
    expect(serviceBus.metrics()).toMatchObject({ deadLettered: 0, halted: 0 });
    expect(await deadLetters()).toEqual([]);
  }, 300_000);
});
