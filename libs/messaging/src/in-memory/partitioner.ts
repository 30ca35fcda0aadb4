/**
 * Kafka's default partitioner (the Java client's murmur2, which kafkajs' DefaultPartitioner reproduces): a key lands
 * on the same partition of the same topic here as on the broker, so a spec that names a partition means the same
 * thing on both transports.
 */
const SEED = 0x9747b28c;
const M = 0x5bd1e995;

/** The Java client's murmur2 of the key's UTF-8 bytes, as a signed 32-bit integer. */
export function murmur2(key: string): number {
  const data = Buffer.from(key, 'utf8');
  const length = data.length;
  let h = SEED ^ length;
  const length4 = Math.floor(length / 4);
  for (let i = 0; i < length4; i += 1) {
    const i4 = i * 4;
    let k = (data[i4]! & 0xff) | ((data[i4 + 1]! & 0xff) << 8) | ((data[i4 + 2]! & 0xff) << 16) | ((data[i4 + 3]! & 0xff) << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  const tail = length & ~3;
  const rest = length % 4;
  if (rest === 3) h ^= (data[tail + 2]! & 0xff) << 16;
  if (rest >= 2) h ^= (data[tail + 1]! & 0xff) << 8;
  if (rest >= 1) h = Math.imul(h ^ (data[tail]! & 0xff), M);
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/** The partition of a keyed record: `toPositive(murmur2(key)) % partitions`, Kafka's rule. */
export function partitionForKey(key: string, partitions: number): number {
  return (murmur2(key) & 0x7fffffff) % partitions;
}
