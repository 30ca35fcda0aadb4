import { ensureInfrastructure } from '@grantline/testing';
import { runMessagingBench } from '../libs/messaging/bench/messaging.bench';

/** Brings up (or reuses) the broker, then runs B1 with N from BENCH_EVENTS (default 20,000). */
export async function runMessagingBenchWithInfra(): Promise<void> {
  const infra = await ensureInfrastructure();
  try {
    const brokers = (process.env['KAFKA_BROKERS'] ?? '').split(',').filter(Boolean);
    await runMessagingBench({ brokers, events: Number(process.env['BENCH_EVENTS'] ?? 20_000) });
  } finally {
    await infra.release();
  }
}
