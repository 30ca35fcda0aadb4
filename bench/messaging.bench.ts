import { globalSetup, globalTeardown } from '@grantline/testing';
// B1 measures the messaging lib's internals against raw kafkajs, so it lives beside the lib (kafkajs stays in
// libs/messaging) and is not part of the lib's public API; no alias reaches it yet.
// eslint-disable-next-line @nx/enforce-module-boundaries -- the one path import of a lib's non-public file left
import { runMessagingBench } from '../libs/messaging/bench/messaging.bench';

/**
 * Brings up (or reuses) the infrastructure exactly as a test run does, then runs B1 with N from
 * BENCH_EVENTS (default 20,000), then stops what it started.
 */
export async function runMessagingBenchWithInfra(): Promise<void> {
  await globalSetup();
  try {
    const brokers = (process.env['KAFKA_BROKERS'] ?? '').split(',').filter(Boolean);
    if (brokers.length === 0) throw new Error('no Kafka broker: KAFKA_BROKERS is empty after infrastructure setup');
    await runMessagingBench({ brokers, events: Number(process.env['BENCH_EVENTS'] ?? 20_000) });
  } finally {
    await globalTeardown();
  }
}
