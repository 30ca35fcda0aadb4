import { createHash, randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import type { Envelope } from '@grantline/contracts';
import type { LogIdentity, PartitionEnd } from './ports';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

/** Where an event sits in the log. */
export interface LogPosition {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
}

/** Per logical topic and partition, the first offset a snapshot has not folded (decimal). */
export type SnapshotPositions = Readonly<Record<string, Readonly<Record<number, string>>>>;

/**
 * How one state is written to a snapshot and read back, and how it is folded from events (the compactor folds the
 * log into a state of its own, beside the live one). Bump `version` whenever the fold or the encoding changes: a
 * snapshot of another version is never restored, the state is replayed from the beginning instead.
 */
export interface StateSnapshotCodec<S> {
  readonly version: string;
  /** A state with nothing folded. */
  empty(): S;
  /** Folds one event, exactly as the replay folds it into the live state. */
  apply(state: S, event: Envelope, position: LogPosition): void;
  /**
   * The state as frames (bytes; any size, any number). Lazily, frame by frame, is best: the runtime yields to the event
   * loop between frames (a million grants take seconds to encode, and a blocked loop loses the service's lease). The
   * runtime changes nothing of the state while it reads them.
   */
  encode(state: S): Iterable<Uint8Array>;
  /**
   * Restores the frames into `into`, which holds nothing yet; when it throws (or rejects), `into` must be left as it
   * was. Asynchronous where parsing takes long (`decodeJsonParts` yields to the event loop as it goes).
   */
  decode(frames: readonly Uint8Array[], into: S): void | Promise<void>;
}

/** What a snapshot covers and how to check it; written after its chunks, so a snapshot without one does not exist. */
export interface SnapshotManifest {
  readonly snapshotId: string;
  /** The state's name (`ReplayedStateOptions.name`). */
  readonly state: string;
  /** The codec's version. */
  readonly version: string;
  /** The log it was folded from; null where the bus cannot tell (test doubles). */
  readonly log: LogIdentity | null;
  /** The topics folded, sorted. */
  readonly topics: readonly string[];
  readonly positions: SnapshotPositions;
  /** Events folded into it since the beginning of the log. */
  readonly events: number;
  readonly chunks: number;
  /** Stored (compressed) bytes over all chunks. */
  readonly bytes: number;
  /** SHA-256 (hex) of the stored bytes, chunk after chunk. */
  readonly sha256: string;
  readonly takenAt: string;
}

/** Where snapshots are kept (the service's own database): derived data, dropped and rebuilt by replay at will. */
export interface SnapshotStore {
  /** The newest complete snapshot of a state, if any. */
  latest(state: string): Promise<SnapshotManifest | undefined>;
  /** Its chunks, in order. */
  read(manifest: SnapshotManifest): Promise<readonly Uint8Array[]>;
  /** Writes the chunks, then the manifest, then drops the state's older snapshots. */
  write(manifest: SnapshotManifest, chunks: readonly Uint8Array[]): Promise<void>;
}

/** A snapshot that cannot be used: the state is replayed from the beginning instead. */
export class SnapshotUnusableError extends Error {}

/** Under MongoDB's 16 MiB document limit, with room for the chunk's other fields. */
export const SNAPSHOT_CHUNK_BYTES = 4 * 1024 * 1024;

/** Frames → one stream (count, lengths, bytes) → gzip (level 1: the snapshot is written often, read once) → chunks. */
export async function packSnapshot(
  frames: readonly Uint8Array[],
  chunkBytes = SNAPSHOT_CHUNK_BYTES,
): Promise<{ chunks: Uint8Array[]; bytes: number; sha256: string }> {
  const header = Buffer.alloc(4 * (frames.length + 1));
  header.writeUInt32BE(frames.length, 0);
  frames.forEach((frame, i) => header.writeUInt32BE(frame.byteLength, 4 * (i + 1)));
  const packed = await gzipAsync(Buffer.concat([header, ...frames]), { level: 1 });
  const chunks: Uint8Array[] = [];
  for (let at = 0; at < packed.length; at += chunkBytes) chunks.push(packed.subarray(at, Math.min(at + chunkBytes, packed.length)));
  if (chunks.length === 0) chunks.push(packed);
  return { chunks, bytes: packed.length, sha256: createHash('sha256').update(packed).digest('hex') };
}

/** The frames back, once the stored bytes match the manifest's digest. */
export async function unpackSnapshot(manifest: Pick<SnapshotManifest, 'sha256' | 'bytes' | 'chunks'>, chunks: readonly Uint8Array[]): Promise<Buffer[]> {
  if (chunks.length !== manifest.chunks) throw new SnapshotUnusableError(`${chunks.length} of ${manifest.chunks} chunks are stored`);
  const packed = Buffer.concat(chunks.map((chunk) => Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)));
  const digest = createHash('sha256').update(packed).digest('hex');
  if (packed.length !== manifest.bytes || digest !== manifest.sha256)
    throw new SnapshotUnusableError(`its bytes do not match its digest (sha256 ${digest}, manifest ${manifest.sha256})`);
  let stream: Buffer;
  try {
    stream = await gunzipAsync(packed);
  } catch (error) {
    throw new SnapshotUnusableError(`it does not decompress: ${String(error)}`);
  }
  if (stream.length < 4) throw new SnapshotUnusableError('it holds no frame table');
  const count = stream.readUInt32BE(0);
  let at = 4 * (count + 1);
  if (stream.length < at) throw new SnapshotUnusableError('its frame table is cut short');
  const frames: Buffer[] = [];
  for (let i = 0; i < count; i += 1) {
    const length = stream.readUInt32BE(4 * (i + 1));
    if (at + length > stream.length) throw new SnapshotUnusableError(`frame ${i} is cut short`);
    frames.push(stream.subarray(at, at + length));
    at += length;
  }
  return frames;
}

/** A new manifest for `chunks`. */
export function snapshotManifest(
  input: Omit<SnapshotManifest, 'snapshotId' | 'takenAt' | 'chunks' | 'bytes' | 'sha256'>,
  packed: { chunks: readonly Uint8Array[]; bytes: number; sha256: string },
  now = new Date(),
): SnapshotManifest {
  return { snapshotId: randomUUID(), takenAt: now.toISOString(), chunks: packed.chunks.length, bytes: packed.bytes, sha256: packed.sha256, ...input };
}

/**
 * Why a snapshot cannot seed the state now, or undefined when it can: another codec version, other topics, another
 * log (cluster or namespace), or positions beyond where the log ends (the log was recreated under it).
 */
export function snapshotMismatch(
  manifest: SnapshotManifest,
  expected: { version: string; topics: readonly string[]; log?: LogIdentity | null; ends?: readonly PartitionEnd[] },
): string | undefined {
  if (manifest.version !== expected.version) return `it was written by codec version ${manifest.version}, this is ${expected.version}`;
  const topics = [...expected.topics].sort();
  if (manifest.topics.length !== topics.length || manifest.topics.some((topic, i) => topic !== topics[i]))
    return `it folds topics ${manifest.topics.join(', ')}, this state folds ${topics.join(', ')}`;
  if (
    expected.log &&
    manifest.log &&
    (manifest.log.clusterId !== expected.log.clusterId || (manifest.log.namespace ?? '') !== (expected.log.namespace ?? ''))
  ) {
    return `it was folded from another log (cluster ${manifest.log.clusterId}, namespace ${manifest.log.namespace ?? 'none'})`;
  }
  if (expected.ends) {
    const ends = new Map(expected.ends.map(({ topic, partition, end }) => [`${topic}/${partition}`, BigInt(end)]));
    for (const [topic, partitions] of Object.entries(manifest.positions)) {
      for (const [partition, offset] of Object.entries(partitions)) {
        const end = ends.get(`${topic}/${partition}`);
        if (end === undefined || BigInt(offset) > end)
          return `it covers ${topic}/${partition} up to offset ${offset}, beyond the log's end (${end ?? 'no such partition'})`;
      }
    }
  }
  return undefined;
}

/** Records on the log beyond a snapshot's positions (an upper bound on the events a replay from it folds). */
export function recordsBeyond(positions: SnapshotPositions, ends: readonly PartitionEnd[]): number {
  let records = 0n;
  for (const { topic, partition, end } of ends) {
    const from = BigInt(positions[topic]?.[partition] ?? '0');
    if (BigInt(end) > from) records += BigInt(end) - from;
  }
  return Number(records);
}

/** Snapshots kept in memory: for specs, and for a process that only needs them to survive a state reload. */
export class InMemorySnapshotStore implements SnapshotStore {
  private readonly snapshots = new Map<string, { manifest: SnapshotManifest; chunks: Uint8Array[] }>();
  writes = 0;

  async latest(state: string): Promise<SnapshotManifest | undefined> {
    return this.snapshots.get(state)?.manifest;
  }

  async read(manifest: SnapshotManifest): Promise<readonly Uint8Array[]> {
    const held = this.snapshots.get(manifest.state);
    return held?.manifest.snapshotId === manifest.snapshotId ? held.chunks : [];
  }

  async write(manifest: SnapshotManifest, chunks: readonly Uint8Array[]): Promise<void> {
    this.writes += 1;
    this.snapshots.set(manifest.state, { manifest, chunks: chunks.map((chunk) => Uint8Array.from(chunk)) });
  }

  /** Flips one stored byte (specs: a corrupt snapshot). */
  corrupt(state: string): void {
    const held = this.snapshots.get(state);
    const first = held?.chunks[0];
    if (first === undefined || first.length === 0) throw new Error(`no snapshot of ${state} to corrupt`);
    first[first.length - 1] = (first[first.length - 1] as number) ^ 0xff;
  }
}

/** JSON frames: for states whose parts are maps, sets and plain records (each frame one part, or a slice of one). */
export function jsonFrame(value: unknown): Uint8Array {
  return Buffer.from(JSON.stringify(value), 'utf8');
}

export function fromJsonFrame<T>(frame: Uint8Array | undefined): T {
  if (frame === undefined) throw new SnapshotUnusableError('a frame is missing');
  return JSON.parse(Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength).toString('utf8')) as T;
}

/** Entries in frames of at most `size` (one huge JSON string would pass V8's string limit for a million grants). */
export function jsonFramesOf<T>(entries: Iterable<T>, size = 20_000): Uint8Array[] {
  const frames: Uint8Array[] = [];
  let slice: T[] = [];
  for (const entry of entries) {
    slice.push(entry);
    if (slice.length >= size) {
      frames.push(jsonFrame(slice));
      slice = [];
    }
  }
  if (slice.length > 0 || frames.length === 0) frames.push(jsonFrame(slice));
  return frames;
}

/**
 * Named parts of a state as JSON frames, lazily: each part is a marker frame (`{"part": name}`), its entries in slices
 * (JSON arrays), each stringified only when its frame is taken so the runtime can yield between them, and an end frame
 * (`{"end": name, "slices": n}`) that lets the decoder catch a lost slice.
 * What most codecs need: `encodeJsonParts({ grants: map.entries(), leavers: set })`.
 */
export function* encodeJsonParts(parts: Readonly<Record<string, Iterable<unknown>>>, sliceSize = 20_000): Generator<Uint8Array> {
  for (const [name, entries] of Object.entries(parts)) {
    yield jsonFrame({ part: name });
    let slices = 0;
    let slice: unknown[] = [];
    for (const entry of entries) {
      slice.push(entry);
      if (slice.length >= sliceSize) {
        yield jsonFrame(slice);
        slices += 1;
        slice = [];
      }
    }
    if (slice.length > 0) {
      yield jsonFrame(slice);
      slices += 1;
    }
    // The part's end, with its count: a slice lost anywhere (a writer's bug, a frame dropped) is caught at decode.
    yield jsonFrame({ end: name, slices });
  }
}

const OPEN_BRACE = 0x7b;
/** Parsing a slice of 20,000 entries takes milliseconds; the loop gets a turn about this often. */
const YIELD_EVERY_MS = 20;

/** Resolves on the event loop's next turn: timers, sockets and the lease's heartbeat get to run. */
export const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * The parts `encodeJsonParts` wrote, each as one array of its entries, parsed with a turn of the event loop every few
 * milliseconds; a part it lacks, or a frame out of place, is an unusable snapshot.
 */
export async function decodeJsonParts<P extends string>(
  frames: Iterable<Uint8Array>,
  names: readonly P[],
  { yieldEveryMs = YIELD_EVERY_MS }: { readonly yieldEveryMs?: number } = {},
): Promise<Record<P, unknown[]>> {
  const found = new Map<string, unknown[]>();
  let current: { readonly name: string; readonly entries: unknown[]; slices: number } | undefined;
  let turn = Date.now();
  for (const frame of frames) {
    if (frame[0] === OPEN_BRACE) {
      const marker = fromJsonFrame<{ part?: unknown; end?: unknown; slices?: unknown }>(frame);
      if (typeof marker.part === 'string' && current === undefined) {
        current = { name: marker.part, entries: [], slices: 0 };
      } else if (typeof marker.end === 'string' && current !== undefined && marker.end === current.name) {
        if (marker.slices !== current.slices)
          throw new SnapshotUnusableError(`part ${current.name} has ${current.slices} of its ${String(marker.slices)} slices`);
        found.set(current.name, current.entries);
        current = undefined;
      } else {
        throw new SnapshotUnusableError(`a part marker out of place (${JSON.stringify(marker).slice(0, 80)})`);
      }
    } else {
      if (current === undefined) throw new SnapshotUnusableError('entries come outside any part');
      const slice = fromJsonFrame<unknown>(frame);
      if (!Array.isArray(slice)) throw new SnapshotUnusableError('a slice of entries is not a list');
      for (const entry of slice) current.entries.push(entry);
      current.slices += 1;
    }
    if (Date.now() - turn >= yieldEveryMs) {
      await nextTurn();
      turn = Date.now();
    }
  }
  if (current !== undefined) throw new SnapshotUnusableError(`part ${current.name} has no end: frames are missing`);
  const parts = {} as Record<P, unknown[]>;
  for (const name of names) {
    const entries = found.get(name);
    if (entries === undefined) throw new SnapshotUnusableError(`it has no part named ${name}`);
    parts[name] = entries;
  }
  return parts;
}

/** Takes every frame of `frames`, with a turn of the event loop every few milliseconds of encoding. */
export async function collectFrames(
  frames: Iterable<Uint8Array>,
  { yieldEveryMs = YIELD_EVERY_MS }: { readonly yieldEveryMs?: number } = {},
): Promise<Uint8Array[]> {
  const collected: Uint8Array[] = [];
  let turn = Date.now();
  for (const frame of frames) {
    collected.push(frame);
    if (Date.now() - turn >= yieldEveryMs) {
      await nextTurn();
      turn = Date.now();
    }
  }
  return collected;
}
