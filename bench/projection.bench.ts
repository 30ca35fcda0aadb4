/**
 * `npm run bench:projection`: how fast the audit rebuilds its read models from the log into an empty database, next
 * to how fast the same store takes the same number of documents of the same size with raw `insertMany`.
 *
 * K requests each go submitted → policy decided → approved → grant created → activated → revoked (six events built
 * from the contracts' fixtures), published to a Kafka namespace of this run. Then (a) baseline: the events
 * themselves, as documents, `insertMany`'d 1,000 at a time into a fresh database; (b) rebuild: the audit's start-up
 * catch-up (replay of every audit topic, folded and written by the projector) into another fresh database, checked
 * against the projections folded in memory. Prints events/s of both and their ratio, ends with one JSON line.
 *
 * BENCH_PROJECTION_EVENTS (50,000; quick 6,000), BENCH_PROJECTION_PARTITIONS (3 per topic), BENCH_PROJECTION_QUICK=1,
 * BENCH_PROJECTION_KEEP_DATA=1 (keep the namespace and databases). Brings its own infrastructure as the specs do.
 */
import { Logger } from '@nestjs/common';
import { createConnection } from 'mongoose';
import type { Connection } from 'mongoose';
import { LIFECYCLE_STORY_EVENTS, TOPICS, lifecycleStory, registry } from '@grantline/contracts';
import type { Envelope } from '@grantline/contracts';
import { KafkaMessageBus, silentLogger } from '@grantline/messaging';
import { globalSetup, globalTeardown, mongoDatabaseUrl, uniqueName } from '@grantline/testing';
// eslint-disable-next-line @nx/enforce-module-boundaries -- an app exports nothing: the audit's own start-up path is measured through its testing entry
import { AUDIT_EVENT_TYPES, rebuildFromLog } from '../apps/audit/src/testing/rebuild.bench';

const say = (line: string): void => void process.stderr.write(`projection | ${line}\n`);
const EVENTS_PER_REQUEST = LIFECYCLE_STORY_EVENTS;
const PUBLISH_CHUNK = 500;
const INSERT_CHUNK = 1_000;

function settings() {
  const env = process.env;
  const quick = env['BENCH_PROJECTION_QUICK'] === '1';
  const whole = (name: string, fallback: number): number => {
    const value = Number(env[name] ?? fallback);
    if (!Number.isInteger(value) || value < 1) throw new Error(`${name}=${env[name]} is not a positive whole number`);
    return value;
  };
  const events = whole('BENCH_PROJECTION_EVENTS', quick ? 6_000 : 50_000);
  return {
    quick,
    requests: Math.ceil(events / EVENTS_PER_REQUEST),
    partitions: whole('BENCH_PROJECTION_PARTITIONS', 3),
    keepData: env['BENCH_PROJECTION_KEEP_DATA'] === '1',
  };
}

const perSecond = (count: number, ms: number): number => Math.round((count / ms) * 1_000);

/** Raw insertMany of the events themselves (one document each, the same bytes), into a database of its own. */
async function insertBaseline(connection: Connection, events: readonly Envelope[]): Promise<{ ms: number; bytes: number }> {
  const collection = connection.collection<{ _id: string }>('events');
  const documents = events.map((event) => ({ ...(JSON.parse(JSON.stringify(event)) as Record<string, unknown>), _id: event.id }));
  const started = performance.now();
  for (let i = 0; i < documents.length; i += INSERT_CHUNK) await collection.insertMany(documents.slice(i, i + INSERT_CHUNK), { ordered: false });
  return { ms: performance.now() - started, bytes: documents.reduce((sum, doc) => sum + JSON.stringify(doc).length, 0) };
}

const mbPerSecond = (bytes: number, ms: number): number => Math.round((bytes / 1_048_576 / (ms / 1_000)) * 10) / 10;

export async function runProjectionBench(): Promise<void> {
  const cfg = settings();
  await globalSetup();
  // The catch-up logs its progress through Nest's logger: warnings and errors only, the figures are the bench's.
  Logger.overrideLogger(['warn', 'error']);
  const run = uniqueName('bench_projection');
  const namespace = run.replace(/_/g, '-');
  const bus = new KafkaMessageBus({ clientId: run, brokers: (process.env['KAFKA_BROKERS'] ?? '').split(','), registry, logger: silentLogger, namespace });
  const connections: Connection[] = [];
  const database = async (suffix: string): Promise<Connection> => {
    const connection = await createConnection(mongoDatabaseUrl(`${run}_${suffix}`)).asPromise();
    connections.push(connection);
    return connection;
  };
  try {
    await bus.connect();
    const events = Array.from({ length: cfg.requests }, (_, index) => lifecycleStory(index)).flat();
    const topics = [...new Set(AUDIT_EVENT_TYPES.map((type) => registry.definitionOf(type).topic))];
    await bus.ensureTopics([...topics.map((topic) => ({ topic, partitions: cfg.partitions })), { topic: TOPICS.deadLetter }]);
    const eventBytes = events.reduce((sum, event) => sum + JSON.stringify(event).length, 0);
    const eventSize = Math.round(eventBytes / events.length);
    const layout = `${topics.length} topics × ${cfg.partitions} partitions`;
    say(`${events.length} events (${cfg.requests} requests × ${EVENTS_PER_REQUEST}, ${eventSize} B each) on ${layout}, namespace ${namespace}`);
    const started = performance.now();
    for (const topic of topics) {
      const onTopic = events.filter((event) => registry.definitionOf(event.type).topic === topic);
      for (let i = 0; i < onTopic.length; i += PUBLISH_CHUNK) await bus.publisher.publish(topic, onTopic.slice(i, i + PUBLISH_CHUNK));
    }
    say(`published in ${Math.round(performance.now() - started)} ms`);

    const { ms: baselineMs, bytes: baselineBytes } = await insertBaseline(await database('baseline'), events);
    const baseline = perSecond(events.length, baselineMs);
    say(
      `(a) baseline: insertMany of ${events.length} documents (${Math.round(baselineBytes / 1_048_576)} MiB, ${INSERT_CHUNK} a call): ` +
        `${Math.round(baselineMs)} ms, ${baseline} documents/s, ${mbPerSecond(baselineBytes, baselineMs)} MiB/s`,
    );

    const rebuild = await rebuildFromLog(bus, registry, await database('rebuild'), events);
    const rebuilt = perSecond(rebuild.events, rebuild.ms);
    const written = Object.values(rebuild.documents).reduce((sum, count) => sum + count, 0);
    const mib = Math.round(rebuild.bytes / 1_048_576);
    say(`(b) rebuild: ${rebuild.events} events replayed, ${written} documents (${mib} MiB) in ${Math.round(rebuild.ms)} ms, ${rebuilt} events/s`);
    say(`    of which writing: ${Math.round(rebuild.writeMs)} ms, ${mbPerSecond(rebuild.bytes, rebuild.writeMs)} MiB/s`);
    say(`    equal to the in-memory fold: ${rebuild.equalToFold ? 'yes' : `NO (${rebuild.differing.join(', ')})`}`);
    const ratio = Math.round((rebuilt / baseline) * 100) / 100;
    say(`rebuild / baseline: ${ratio} (goal ≥ 0.5); rebuild ≥ 20,000 events/s: ${rebuilt >= 20_000 ? 'yes' : 'no'}`);
    process.stdout.write(
      `${JSON.stringify({
        bench: 'projection',
        quick: cfg.quick,
        events: events.length,
        requests: cfg.requests,
        partitionsPerTopic: cfg.partitions,
        eventBytes: eventSize,
        baseline: { documents: events.length, bytes: baselineBytes, ms: Math.round(baselineMs), perSecond: baseline },
        rebuild: {
          events: rebuild.events,
          ms: Math.round(rebuild.ms),
          writeMs: Math.round(rebuild.writeMs),
          eventsPerSecond: rebuilt,
          documents: rebuild.documents,
          bytes: rebuild.bytes,
          equalToFold: rebuild.equalToFold,
        },
        ratio,
      })}\n`,
    );
    if (rebuild.events !== events.length || !rebuild.equalToFold) process.exitCode = 1;
  } finally {
    if (!cfg.keepData) {
      for (const connection of connections) await connection.dropDatabase().catch(() => undefined);
      await bus.deleteNamespace().catch(() => undefined);
    }
    for (const connection of connections) await connection.close();
    await bus.disconnect();
    await globalTeardown();
  }
}
