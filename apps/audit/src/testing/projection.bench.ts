// Measures the audit projections on real infrastructure: events/s projected into the MongoDB-wire store, and the
// time a rebuild (fresh database + replay from Kafka) takes for N events.
//   KAFKA_BROKERS=127.0.0.1:19092 MONGO_URL=mongodb://127.0.0.1:27027/ \
//     node -r @swc-node/register apps/audit/src/testing/projection.bench.ts [requests=300]
import { randomBytes } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { createConnection } from 'mongoose';
import { EventRegistry, TOPICS, defineEvent, registry as catalogue } from '@grantline/contracts';
import type { TopicName } from '@grantline/contracts';
import { KafkaMessageBus, silentLogger } from '@grantline/messaging';
import { AUDIT_PROJECTIONS } from '../projections/audit.projections';
import { AUDIT_EVENT_TYPES } from '../projections/projection';
import { ReadModelStore } from '../persistence/read-model.store';
import { AuditProjector } from '../projector/audit.projector';
import { lifecycleEvents } from './lifecycle-events.fixture';

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`${name} is not set`);
  return value;
}

async function main(): Promise<void> {
  const requests = Number(process.argv[2] ?? 300);
  const run = `bench_audit_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const mongoUrl = new URL(required('MONGO_URL'));
  const databaseUrl = (name: string): string => Object.assign(new URL(mongoUrl), { pathname: `/${name}` }).toString();
  const topicFor = (topic: string): TopicName => `${run}.${topic}` as TopicName;
  const registry = new EventRegistry();
  for (const type of AUDIT_EVENT_TYPES) {
    const def = catalogue.definitionOf(type);
    registry.register(defineEvent(def.name, def.version, topicFor(def.topic), def.schema));
  }
  const topics = [...new Set(AUDIT_EVENT_TYPES.map((type) => registry.definitionOf(type).topic))];
  const placed = Array.from({ length: requests }, (_, index) => lifecycleEvents({ requestId: `req-${index}`, subjectId: `svc-${index % 50}` })).flat();

  // 1. direct: events through the projector into FerretDB/MongoDB, one partition per topic, serial
  const live = await createConnection(databaseUrl(`${run}_live`)).asPromise();
  const liveStore = new ReadModelStore(live, AUDIT_PROJECTIONS);
  await liveStore.ensureIndexes();
  const projector = new AuditProjector(liveStore);
  const offsets = new Map<string, number>();
  let started = Date.now();
  for (const { topic, event } of placed) {
    const offset = offsets.get(topic) ?? 0;
    offsets.set(topic, offset + 1);
    await projector.project(event, { topic: topicFor(topic), partition: 0, offset: String(offset) });
  }
  const directMs = Date.now() - started;

  // 2. rebuild: publish the same log to Kafka, then replay it into a fresh database
  const bus = new KafkaMessageBus({ clientId: run, brokers: required('KAFKA_BROKERS').split(','), registry, logger: silentLogger });
  await bus.connect();
  await bus.ensureTopics([...topics.map((topic) => ({ topic, partitions: 1 })), { topic: TOPICS.deadLetter }]);
  for (const topic of new Set(placed.map((p) => p.topic))) {
    const events = placed.filter((p) => p.topic === topic).map((p) => p.event);
    for (let i = 0; i < events.length; i += 500) await bus.publisher.publish(topicFor(topic), events.slice(i, i + 500));
  }
  const rebuilt = await createConnection(databaseUrl(`${run}_rebuild`)).asPromise();
  const rebuiltStore = new ReadModelStore(rebuilt, AUDIT_PROJECTIONS);
  await rebuiltStore.ensureIndexes();
  const rebuildProjector = new AuditProjector(rebuiltStore);
  started = Date.now();
  const replayed = await bus.replay({ topics, handler: async (event, context) => void (await rebuildProjector.project(event, context)) });
  const rebuildMs = Date.now() - started;
  const [original, copy] = [await liveStore.snapshot(), await rebuiltStore.snapshot()];
  const differing = Object.keys(original).filter((name) => !isDeepStrictEqual(original[name], copy[name]));
  const same = differing.length === 0;

  process.stdout.write(
    `${JSON.stringify({
      requests,
      events: placed.length,
      direct: { ms: directMs, eventsPerSecond: Math.round((placed.length / directMs) * 1000) },
      rebuild: { replayed, ms: rebuildMs, eventsPerSecond: Math.round((replayed / rebuildMs) * 1000), equalToOriginal: same, ...(same ? {} : { differing }) },
    })}\n`,
  );
  await live.dropDatabase();
  await rebuilt.dropDatabase();
  await live.close();
  await rebuilt.close();
  await bus.disconnect();
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
