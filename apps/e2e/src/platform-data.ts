import { registry } from '@grantline/contracts';
import { KafkaMessageBus, silentLogger } from '@grantline/messaging';
import mongoose from 'mongoose';
import type { Platform } from './platform.fixture';

/**
 * Removes what a stopped platform left on the shared infrastructure: its Kafka namespace (topics, consumer
 * groups) and its services' MongoDB databases. A developer's long-lived broker would otherwise gain ~150
 * partitions per scenario run, and every partition is directories and open files the broker carries into
 * every later run. `GRANTLINE_E2E_KEEP_DATA=1` keeps them for a look after a run; the service logs under
 * .grantline/e2e-logs/ are kept either way.
 */
export async function deletePlatformData(platform: Platform): Promise<void> {
  if (process.env['GRANTLINE_E2E_KEEP_DATA'] === '1') return;
  const brokers = (process.env['KAFKA_BROKERS'] ?? '')
    .split(',')
    .map((broker) => broker.trim())
    .filter(Boolean);
  const bus = new KafkaMessageBus({ clientId: `e2e-cleanup-${platform.runId}`, brokers, registry, logger: silentLogger, namespace: platform.namespace });
  try {
    await bus.connect();
    await bus.deleteNamespace();
  } finally {
    await bus.disconnect();
  }
  await platform.kafkaAccess?.dispose();
  const connection = await mongoose.createConnection(process.env['MONGO_URL'] ?? '').asPromise();
  try {
    for (const name of platform.serviceNames) await connection.useDb(platform.database(name), { useCache: false }).dropDatabase();
  } finally {
    await connection.close();
  }
}
