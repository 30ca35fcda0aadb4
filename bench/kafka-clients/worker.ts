/**
 * A child of bench:kafka-clients: `worker.ts <client> <settings JSON>` runs a small warm-up round (not counted) and one
 * measured round of that client against KAFKA_BROKERS (and the SASL login) inherited from the parent, then prints its
 * ClientTotals as one JSON line.
 */
import { KafkajsClient } from './kafkajs-client';
import { PlatformaticClient } from './platformatic-client';
import type { RawClient } from './raw-client';
import { buildRecords, emptyClientTotals, oneRound } from './round';
import type { Settings } from './round';

const CLIENTS: Record<string, (brokers: readonly string[]) => RawClient> = {
  kafkajs: (brokers) => new KafkajsClient(brokers),
  '@platformatic/kafka': (brokers) => new PlatformaticClient(brokers),
};

async function main(): Promise<void> {
  const [name = '', settingsJson = '{}'] = process.argv.slice(2);
  const makeClient = CLIENTS[name];
  if (!makeClient) throw new Error(`unknown client '${name}' (${Object.keys(CLIENTS).join(' | ')})`);
  const cfg = JSON.parse(settingsJson) as Settings;
  const brokers = (process.env['KAFKA_BROKERS'] ?? '').split(',').filter(Boolean);
  if (brokers.length === 0) throw new Error('no Kafka broker: KAFKA_BROKERS is empty');
  const client = makeClient(brokers);
  try {
    const records = buildRecords(cfg.events, cfg.eventBytes);
    const warmUp = { ...cfg, latencyEvents: Math.min(200, cfg.latencyEvents), txEvents: Math.min(200, cfg.txEvents) };
    await oneRound(client, warmUp, records.slice(0, Math.min(1_000, records.length)), undefined);
    const totals = emptyClientTotals();
    await oneRound(client, cfg, records, totals);
    process.stdout.write(`${JSON.stringify(totals)}\n`);
  } finally {
    await client.close();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
