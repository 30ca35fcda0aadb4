import { leafHash } from './merkle';

/** One Kafka record's exact bytes and coordinates: what a leaf commits to. Offsets are decimal strings. */
export interface LogRecordBytes {
  /** The logical topic name (without a test namespace prefix). */
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  /** In record order. */
  readonly headers: readonly { readonly key: string; readonly value: Buffer | null }[];
}

// Versioned domain tag: a future encoding can never produce the bytes of this one.
const DOMAIN = Buffer.from('grantline.log-record.v1\n', 'utf8');
const OFFSET_PATTERN = /^(0|[1-9]\d{0,18})$/;
const MAX_OFFSET = 2n ** 63n - 1n;

function u32(value: number): Buffer {
  const buffer = Buffer.allocUnsafe(4);
  buffer.writeUInt32BE(value);
  return buffer;
}

function text(value: string, field: string): Buffer[] {
  if (typeof value !== 'string') throw new TypeError(`${field}: expected a string`);
  const bytes = Buffer.from(value, 'utf8');
  return [u32(bytes.length), bytes];
}

/** Presence byte, then length and bytes: null and empty are different records. */
function optionalBytes(value: Buffer | null, field: string): Buffer[] {
  if (value === null) return [Buffer.from([0])];
  if (!Buffer.isBuffer(value)) throw new TypeError(`${field}: expected a Buffer or null`);
  return [Buffer.from([1]), u32(value.length), value];
}

/**
 * The canonical, unambiguous encoding of a record: a domain tag, then every field with its length (strings as
 * UTF-8, nullable byte strings with a presence byte), the offset as a signed 64-bit big-endian integer, the header
 * count then each header. No two different records encode to the same bytes: every field's extent is explicit.
 */
export function recordLeafData(record: LogRecordBytes): Buffer {
  if (!Number.isInteger(record.partition) || record.partition < 0 || record.partition > 0x7fffffff) {
    throw new RangeError(`partition: ${record.partition} is not a Kafka partition number`);
  }
  if (typeof record.offset !== 'string' || !OFFSET_PATTERN.test(record.offset) || BigInt(record.offset) > MAX_OFFSET) {
    throw new RangeError(`offset: ${String(record.offset)} is not a canonical decimal Kafka offset`);
  }
  const offset = Buffer.allocUnsafe(8);
  offset.writeBigInt64BE(BigInt(record.offset));
  const parts: Buffer[] = [DOMAIN, ...text(record.topic, 'topic'), u32(record.partition), offset];
  parts.push(...optionalBytes(record.key, 'key'), ...optionalBytes(record.value, 'value'), u32(record.headers.length));
  record.headers.forEach((header, index) => {
    parts.push(...text(header.key, `headers[${index}].key`), ...optionalBytes(header.value, `headers[${index}].value`));
  });
  return Buffer.concat(parts);
}

/** leafHash(recordLeafData(record)). */
export function recordLeafHash(record: LogRecordBytes): Buffer {
  return leafHash(recordLeafData(record));
}
