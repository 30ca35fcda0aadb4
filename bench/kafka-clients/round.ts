/**
 * One client's round of bench:kafka-clients (B1's produce and consume, the fixed-rate latency phase, the transactional
 * loop), in a process of its own so process.cpuUsage is that client's alone: the parent's harness supervision and
 * the other client never count.
 */
import { randomUUID } from 'node:crypto';
import { latencyOf, round } from '../lifecycle/stats';
import { Meter } from './raw-client';
import type { BenchRecord, RawClient } from './raw-client';

export function settings() {
  const env = process.env;
  const quick = env['BENCH_KAFKA_CLIENTS_QUICK'] === '1';
  const num = (name: string, fallback: number): number => {
    const value = Number(env[name] ?? fallback);
    if (!Number.isFinite(value) || value <= 0) throw new Error(`${name}=${env[name]} is not a positive number`);
    return Math.floor(value);
  };
  return {
    events: num('BENCH_EVENTS', quick ? 2_000 : 20_000),
    batchSize: 500,
    eventBytes: 512,
    rounds: num('BENCH_KAFKA_CLIENTS_ROUNDS', quick ? 1 : 3),
    ratePerSec: num('BENCH_KAFKA_CLIENTS_RATE', 200),
    latencyEvents: num('BENCH_KAFKA_CLIENTS_LATENCY_EVENTS', quick ? 400 : 4_000),
    txEvents: num('BENCH_KAFKA_CLIENTS_TX_EVENTS', quick ? 500 : 5_000),
    txSize: num('BENCH_KAFKA_CLIENTS_TX_SIZE', 20),
  };
}
export type Settings = ReturnType<typeof settings>;

/** B1's payload: an envelope-shaped JSON document padded to `eventBytes`, keyed `<seq>:key-<seq % 64>`. */
export function buildRecords(count: number, eventBytes: number, from = 0): BenchRecord[] {
  const records: BenchRecord[] = [];
  for (let seq = from; seq < from + count; seq += 1) {
    const draft = { id: randomUUID(), type: 'bench.pinged', version: 1, subject: `key-${seq % 64}`, time: new Date().toISOString(), data: { seq, note: '' } };
    const padding = Math.max(0, eventBytes - JSON.stringify(draft).length);
    records.push({ key: `${seq}:key-${seq % 64}`, value: Buffer.from(JSON.stringify({ ...draft, data: { seq, note: 'x'.repeat(padding) } })) });
  }
  return records;
}

export interface Totals {
  events: number;
  wallMs: number;
  cpuMicros: number;
}

export interface ClientTotals {
  produce: Totals;
  consume: Totals;
  latency: Totals;
  transactional: Totals;
  latencySamplesMs: number[];
  /** Each round's own figures, to show how much they move between rounds. */
  byRound: RoundFigures[];
}

export interface RoundFigures {
  readonly p99: number;
  readonly endToEndCpuMicrosPerEvent: number;
  readonly latencyCpuMicrosPerEvent: number;
  readonly transactionalCpuMicrosPerEvent: number;
}

export const emptyTotals = (): Totals => ({ events: 0, wallMs: 0, cpuMicros: 0 });
const add = (totals: Totals, meter: Meter, events: number): void => {
  totals.events += events;
  totals.wallMs += meter.wallMs;
  totals.cpuMicros += meter.cpuMicros;
};

export async function oneRound(client: RawClient, cfg: Settings, records: readonly BenchRecord[], totals: ClientTotals | undefined): Promise<void> {
  const id = randomUUID().slice(0, 8);
  const topics = {
    b1: `bench.clients.${id}.b1`,
    latency: `bench.clients.${id}.latency`,
    txIn: `bench.clients.${id}.tx-in`,
    txOut: `bench.clients.${id}.tx-out`,
  };
  await client.createTopics(Object.values(topics));
  try {
    const produce = new Meter();
    await client.produce(topics.b1, records, cfg.batchSize, produce);
    const consume = new Meter();
    await client.consume(topics.b1, records.length, consume);
    const latencyRecords = records.slice(0, Math.min(records.length, cfg.latencyEvents));
    const latency = new Meter();
    const samples = await client.latency(topics.latency, latencyRecords, cfg.ratePerSec, latency);
    const txRecords = records.slice(0, Math.min(records.length, cfg.txEvents));
    await client.produce(topics.txIn, txRecords, cfg.batchSize, new Meter());
    const transactional = new Meter();
    await client.transactionalLoop(topics.txIn, topics.txOut, txRecords.length, cfg.txSize, transactional);
    if (totals) {
      add(totals.produce, produce, records.length);
      add(totals.consume, consume, records.length);
      add(totals.latency, latency, latencyRecords.length);
      add(totals.transactional, transactional, txRecords.length);
      totals.latencySamplesMs.push(...samples);
      totals.byRound.push({
        p99: latencyOf(samples).p99,
        endToEndCpuMicrosPerEvent: round((produce.cpuMicros + consume.cpuMicros) / records.length),
        latencyCpuMicrosPerEvent: round(latency.cpuMicros / latencyRecords.length),
        transactionalCpuMicrosPerEvent: round(transactional.cpuMicros / txRecords.length),
      });
    }
  } finally {
    await client.deleteTopics(Object.values(topics));
  }
}

export const emptyClientTotals = (): ClientTotals => ({
  produce: emptyTotals(),
  consume: emptyTotals(),
  latency: emptyTotals(),
  transactional: emptyTotals(),
  latencySamplesMs: [],
  byRound: [],
});
