import type { LogRecordBytes } from './record-leaf';

// The evidence bundle's line formats (README: "Evidence bundle"). Parsed by hand, not by a schema library: a
// bundle holds hundreds of thousands of lines and the verifier's speed is a feature; every field is still checked
// and a bad one is named.

export const BUNDLE_FORMAT = 'grantline-evidence-bundle/1';
export const BUNDLE_FILES = {
  manifest: 'manifest.json',
  events: 'events.jsonl',
  checkpoints: 'checkpoints.jsonl',
  verifierKey: 'verifier.vkey',
  publicKeyPem: 'verifier.pem',
} as const;

export class BundleFormatError extends Error {
  override readonly name = 'BundleFormatError';
}

/** One record of a tree, with its inclusion proof against the bundle's last checkpoint of that tree. */
export interface BundleEventLine {
  /** The tree's checkpoint origin. */
  readonly tree: string;
  /** The record's leaf index in its tree. */
  readonly index: number;
  readonly record: LogRecordBytes;
  /** The value parsed as JSON (the CloudEvent) for humans and tools; null when the value is not JSON. */
  readonly event: unknown;
  readonly proof: { readonly size: number; readonly hashes: readonly Buffer[] };
}

/** One signed checkpoint of a tree, with the consistency proof from the previous checkpoint of that tree. */
export interface BundleCheckpointLine {
  readonly tree: string;
  /** The tree size the note signs (repeated for readers; the verifier checks it equals the note's). */
  readonly size: number;
  /** The whole C2SP signed note. */
  readonly note: string;
  /** From the bundle's previous checkpoint of this tree; null on a tree's first checkpoint. */
  readonly consistency: { readonly fromSize: number; readonly hashes: readonly Buffer[] } | null;
}

const OFFSET_PATTERN = /^(0|[1-9]\d{0,18})$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The record value as the `event` field shows it: its JSON, or null when it is absent, not UTF-8 or not JSON. */
export function valueAsEvent(value: Buffer | null): unknown {
  if (value === null) return null;
  try {
    return JSON.parse(utf8.decode(value)) as unknown;
  } catch {
    return null;
  }
}

/**
 * Whether `event` is the JSON of the value bytes (what the verifier requires of every line). The common case is
 * checked first without parsing: the value is exactly the JSON text `event` serialises to (as Grantline's producer
 * writes it); otherwise the value is parsed and both compared as serialised JSON.
 */
export function eventMatchesValue(event: unknown, value: Buffer | null): boolean {
  const eventText = JSON.stringify(event);
  if (value !== null) {
    try {
      if (utf8.decode(value) === eventText) return true;
    } catch {
      // Not UTF-8: the event must be null, checked below.
    }
  }
  return JSON.stringify(valueAsEvent(value)) === eventText;
}

const base64OrNull = (bytes: Buffer | null): string | null => (bytes === null ? null : bytes.toString('base64'));

/** One events.jsonl line (without the newline). */
export function bundleEventLine(line: Omit<BundleEventLine, 'event'>): string {
  const { record } = line;
  return JSON.stringify({
    tree: line.tree,
    index: line.index,
    topic: record.topic,
    partition: record.partition,
    offset: record.offset,
    event: valueAsEvent(record.value),
    key: base64OrNull(record.key),
    value: base64OrNull(record.value),
    headers: record.headers.map((header) => ({ key: header.key, value: base64OrNull(header.value) })),
    proof: { size: line.proof.size, hashes: line.proof.hashes.map((hash) => hash.toString('base64')) },
  });
}

/** One checkpoints.jsonl line (without the newline). */
export function bundleCheckpointLine(line: BundleCheckpointLine): string {
  return JSON.stringify({
    tree: line.tree,
    size: line.size,
    note: line.note,
    consistency:
      line.consistency === null ? null : { fromSize: line.consistency.fromSize, hashes: line.consistency.hashes.map((hash) => hash.toString('base64')) },
  });
}

type Json = Record<string, unknown>;

function parseObject(line: string, what: string): Json {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch (error) {
    throw new BundleFormatError(`${what}: not JSON (${(error as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new BundleFormatError(`${what}: not a JSON object`);
  return parsed as Json;
}

function string(object: Json, field: string): string {
  const value = object[field];
  if (typeof value !== 'string' || value.length === 0) throw new BundleFormatError(`${field}: expected a non-empty string`);
  return value;
}

function whole(object: Json, field: string, max = Number.MAX_SAFE_INTEGER): number {
  const value = object[field];
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0 || value > max) throw new BundleFormatError(`${field}: expected a whole number`);
  return value;
}

/** Canonical base64 only: two texts never decode to the same bytes. */
function bytesOrNull(value: unknown, field: string): Buffer | null {
  if (value === null) return null;
  if (typeof value !== 'string') throw new BundleFormatError(`${field}: expected base64 or null`);
  const bytes = Buffer.from(value, 'base64');
  if (bytes.toString('base64') !== value) throw new BundleFormatError(`${field}: not canonical base64`);
  return bytes;
}

function hashes(value: unknown, field: string): Buffer[] {
  if (!Array.isArray(value)) throw new BundleFormatError(`${field}: expected an array of base64 hashes`);
  if (value.length > 64) throw new BundleFormatError(`${field}: ${value.length} hashes, a proof has at most 64`);
  return value.map((hash: unknown, index) => {
    // The decoded bytes are what is verified; a cheap shape check and the decoded length suffice (faster than a regex
    // on every hash of every proof).
    const bytes = typeof hash === 'string' && hash.length === 44 && hash.charCodeAt(43) === 61 ? Buffer.from(hash, 'base64') : undefined;
    if (bytes === undefined || bytes.length !== 32) throw new BundleFormatError(`${field}[${index}]: expected the base64 of a 32-byte hash`);
    return bytes;
  });
}

/** Parses one events.jsonl line; throws a BundleFormatError naming the bad field. */
export function parseBundleEventLine(line: string): BundleEventLine {
  const object = parseObject(line, 'event line');
  const offset = object['offset'];
  if (typeof offset !== 'string' || !OFFSET_PATTERN.test(offset)) throw new BundleFormatError('offset: expected a decimal string');
  const rawHeaders = object['headers'];
  if (!Array.isArray(rawHeaders)) throw new BundleFormatError('headers: expected an array');
  const headers = rawHeaders.map((header: unknown, index) => {
    if (typeof header !== 'object' || header === null) throw new BundleFormatError(`headers[${index}]: expected an object`);
    const { key, value } = header as Json;
    if (typeof key !== 'string') throw new BundleFormatError(`headers[${index}].key: expected a string`);
    return { key, value: bytesOrNull(value, `headers[${index}].value`) };
  });
  const proof = object['proof'];
  if (typeof proof !== 'object' || proof === null) throw new BundleFormatError('proof: expected an object');
  if (!('event' in object)) throw new BundleFormatError('event: missing (null when the value is not JSON)');
  return {
    tree: string(object, 'tree'),
    index: whole(object, 'index'),
    record: {
      topic: string(object, 'topic'),
      partition: whole(object, 'partition', 0x7fffffff),
      offset,
      key: bytesOrNull(object['key'], 'key'),
      value: bytesOrNull(object['value'], 'value'),
      headers,
    },
    event: object['event'],
    proof: { size: whole(proof as Json, 'size'), hashes: hashes((proof as Json)['hashes'], 'proof.hashes') },
  };
}

/** Parses one checkpoints.jsonl line; throws a BundleFormatError naming the bad field. */
export function parseBundleCheckpointLine(line: string): BundleCheckpointLine {
  const object = parseObject(line, 'checkpoint line');
  const consistency = object['consistency'];
  if (consistency !== null && (typeof consistency !== 'object' || consistency === undefined))
    throw new BundleFormatError('consistency: expected an object or null');
  return {
    tree: string(object, 'tree'),
    size: whole(object, 'size'),
    note: string(object, 'note'),
    consistency:
      consistency === null ? null : { fromSize: whole(consistency as Json, 'fromSize'), hashes: hashes((consistency as Json)['hashes'], 'consistency.hashes') },
  };
}

/** manifest.json: what the bundle holds. Not signed: the checkpoints are the evidence, the manifest the table of contents. */
export interface BundleManifest {
  readonly format: typeof BUNDLE_FORMAT;
  readonly createdAt: string;
  readonly period: { readonly from: string | null; readonly to: string | null };
  readonly clusterId: string;
  readonly namespace: string | null;
  readonly verifierKeyName: string;
  /** In events.jsonl order. `lastIndex` is null for a tree without records in the bundle. */
  readonly trees: readonly {
    readonly origin: string;
    readonly topic: string;
    readonly partition: number;
    readonly firstIndex: number;
    readonly lastIndex: number | null;
    readonly lines: number;
    readonly checkpoints: number;
    readonly lastCheckpointSize: number;
  }[];
  readonly files: readonly { readonly name: string; readonly bytes: number; readonly sha256: string }[];
}
