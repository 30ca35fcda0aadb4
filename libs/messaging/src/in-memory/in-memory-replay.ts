import type { Envelope, EventRegistry } from '@grantline/contracts';
import { parseRecordValue } from '../consumed-record';
import type { BatchReplayOptions, ReplayOptions } from '../ports';
import type { InMemoryLog, StoredRecord } from './in-memory-log';

/** Records handed to one replay batch at most, as the log's consumers fetch them. */
const MAX_REPLAY_BATCH = 500;

/**
 * A replay of the in-memory log with the consumer's registry, from the beginning to the ends at call time. Events go
 * to a handler in arrival order, or to a batch handler partition by partition, in chunks as a consumer fetches them;
 * records that cannot be decoded go to `onInvalid`. Returns the number of events handled.
 */
export async function replayLog(log: InMemoryLog, registry: EventRegistry, options: ReplayOptions | BatchReplayOptions): Promise<number> {
  const ends = new Map(options.topics.map((topic) => [topic, log.ends(topic)]));
  const from = 'from' in options ? options.from : undefined;
  const startOf = (record: StoredRecord): bigint => BigInt(from?.[record.topic]?.[record.partition] ?? '0');
  const records = log
    .all(options.topics)
    .filter((record) => record.offset >= startOf(record) && record.offset < (ends.get(record.topic)?.[record.partition] ?? 0n));
  const decode = (record: StoredRecord): Envelope | undefined => {
    try {
      return registry.decode(parseRecordValue(record.value));
    } catch (error) {
      options.onInvalid?.(error, { topic: record.topic, partition: record.partition, offset: record.offset.toString() });
      return undefined;
    }
  };
  if ('batchHandler' in options) return replayBatches(records, decode, options);
  let handled = 0;
  for (const record of records) {
    const event = decode(record);
    if (event === undefined) continue;
    await options.handler(event, { topic: record.topic, partition: record.partition, offset: record.offset.toString(), key: record.key });
    handled += 1;
  }
  return handled;
}

async function replayBatches(
  records: readonly StoredRecord[],
  decode: (record: StoredRecord) => Envelope | undefined,
  options: BatchReplayOptions,
): Promise<number> {
  const byPartition = new Map<string, StoredRecord[]>();
  for (const record of records) {
    const key = `${record.topic}\u0000${record.partition}`;
    const list = byPartition.get(key) ?? [];
    list.push(record);
    byPartition.set(key, list);
  }
  let handled = 0;
  for (const partitionRecords of byPartition.values()) {
    for (let start = 0; start < partitionRecords.length; start += MAX_REPLAY_BATCH) {
      const chunk = partitionRecords.slice(start, start + MAX_REPLAY_BATCH);
      const whole = { events: [] as Envelope[], offsets: [] as string[], keys: [] as (string | null)[] };
      for (const record of chunk) {
        const event = decode(record);
        if (event === undefined) continue;
        whole.events.push(event);
        whole.offsets.push(record.offset.toString());
        whole.keys.push(record.key);
      }
      if (whole.events.length === 0) continue;
      await options.batchHandler(whole.events, { topic: chunk[0]!.topic, partition: chunk[0]!.partition, ...whole });
      handled += whole.events.length;
    }
  }
  return handled;
}
