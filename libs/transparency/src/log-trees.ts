import { TOPICS, connectorIdOfTopic } from '@grantline/contracts';
import { treeOrigin } from './checkpoint';
import { MerkleLog } from './merkle';
import { recordLeafHash } from './record-leaf';
import type { LogRecordBytes } from './record-leaf';

/** Which log the trees are of: the cluster, and the namespace inside it if any. */
export interface TreeLogIdentity {
  readonly clusterId: string;
  readonly namespace?: string;
}

/**
 * The topics whose partitions have trees (ADR 0016): every catalogue topic but `iga.audit.v1` (whose checkpoints
 * authenticate themselves), plus the connector topics among `existing`.
 */
export function treeTopics(existing: readonly string[]): string[] {
  const catalogue: string[] = Object.values(TOPICS).filter((topic) => topic !== TOPICS.audit);
  return [...new Set([...catalogue, ...existing.filter((topic) => connectorIdOfTopic(topic) !== undefined)])].sort();
}

/** A checkpoint of a tree as published on `iga.audit.v1`: the signed note and what it says. */
export interface PublishedCheckpoint {
  readonly origin: string;
  readonly topic: string;
  readonly partition: number;
  readonly treeSize: number;
  readonly rootHash: Buffer;
  readonly lastOffset: string;
  /** The whole C2SP signed note (authoritative). */
  readonly note: string;
  readonly signedAt: string;
}

/** One partition's tree: its leaves in offset order, the offset of each, the checkpoints published of it. */
export interface LogTree {
  readonly origin: string;
  readonly topic: string;
  readonly partition: number;
  readonly log: MerkleLog;
  /** Index for index with the leaves: the offset each record was read at (offsets have gaps: transaction markers). */
  readonly offsets: bigint[];
  /** Sorted by size; the last is the latest. */
  readonly checkpoints: PublishedCheckpoint[];
  /** Why this tree's log no longer matches what was published of it; set once, never cleared (fail closed). */
  tampered?: string;
}

/** Where a record is in the trees. */
export interface LeafPosition {
  readonly tree: LogTree;
  readonly index: number;
}

/** Records written before ADR 0027 repeated the event id in this header; newer ones carry it in the value only. */
const LEGACY_CE_ID_HEADER = 'ce_id';

const LEADING_ID = /^\{"specversion":"1\.0","id":"([^"\\]{1,200})"/;

/** The CloudEvent id of a record: its structured-mode value's `id` (or the legacy header); none for a value that is not an event. */
function eventIdOf(record: LogRecordBytes): string | undefined {
  const header = record.headers.find((candidate) => candidate.key === LEGACY_CE_ID_HEADER)?.value?.toString('utf8');
  if (header !== undefined) return header;
  if (record.value === null) return undefined;
  // Producers write the attributes in schema order, so the id is almost always right at the start: no full parse.
  const quick = LEADING_ID.exec(record.value.subarray(0, 256).toString('utf8'));
  if (quick?.[1] !== undefined) return quick[1];
  try {
    const parsed: unknown = JSON.parse(record.value.toString('utf8'));
    const id = typeof parsed === 'object' && parsed !== null ? (parsed as { id?: unknown }).id : undefined;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The Merkle trees of a log, one per topic partition (ADR 0016), kept in memory: every record is entered in offset
 * order as an RFC 9162 leaf over its exact bytes. Also remembers where each CloudEvent id was entered, for proofs
 * asked by event id. Pure bookkeeping: no I/O.
 */
export class LogTrees {
  private readonly trees = new Map<string, LogTree>();
  private readonly byOrigin = new Map<string, LogTree>();
  private readonly byEventId = new Map<string, { origin: string; index: number }>();

  constructor(private readonly identity: TreeLogIdentity) {}

  /** The tree of a topic partition, created empty on first use. */
  tree(topic: string, partition: number): LogTree {
    const key = `${topic}\u0000${partition}`;
    let tree = this.trees.get(key);
    if (tree === undefined) {
      const origin = treeOrigin({
        clusterId: this.identity.clusterId,
        ...(this.identity.namespace ? { namespace: this.identity.namespace } : {}),
        topic,
        partition,
      });
      tree = { origin, topic, partition, log: new MerkleLog(), offsets: [], checkpoints: [] };
      this.trees.set(key, tree);
      this.byOrigin.set(origin, tree);
    }
    return tree;
  }

  find(topic: string, partition: number): LogTree | undefined {
    return this.trees.get(`${topic}\u0000${partition}`);
  }

  findByOrigin(origin: string): LogTree | undefined {
    return this.byOrigin.get(origin);
  }

  all(): LogTree[] {
    return [...this.trees.values()].sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1));
  }

  /** Enters records, each after its tree's last leaf in offset order (a replay from its next offset); returns each one's tree and leaf. */
  append(records: readonly LogRecordBytes[]): LeafPosition[] {
    const entered: LeafPosition[] = [];
    for (const record of records) {
      const tree = this.tree(record.topic, record.partition);
      const offset = BigInt(record.offset);
      const last = tree.offsets[tree.offsets.length - 1];
      if (last !== undefined && offset <= last)
        throw new Error(`${tree.origin}: offset ${record.offset} read after ${last}: records must come in offset order`);
      const index = tree.log.append(recordLeafHash(record));
      tree.offsets.push(offset);
      entered.push({ tree, index });
      const eventId = eventIdOf(record);
      // The first record with an id keeps it: a later copy (a redelivered publish) proves nothing more.
      if (eventId !== undefined && !this.byEventId.has(eventId)) this.byEventId.set(eventId, { origin: tree.origin, index });
    }
    return entered;
  }

  /** Where the next replay of each known partition starts: just past its last leaf. */
  nextOffsets(): Record<string, Record<number, string>> {
    const from: Record<string, Record<number, string>> = {};
    for (const tree of this.trees.values()) {
      const last = tree.offsets[tree.offsets.length - 1];
      if (last === undefined) continue;
      (from[tree.topic] ??= {})[tree.partition] = (last + 1n).toString();
    }
    return from;
  }

  byEvent(eventId: string): LeafPosition | undefined {
    const found = this.byEventId.get(eventId);
    const tree = found && this.byOrigin.get(found.origin);
    return tree && found ? { tree, index: found.index } : undefined;
  }

  byOffset(topic: string, partition: number, offset: bigint): LeafPosition | undefined {
    const tree = this.find(topic, partition);
    if (tree === undefined) return undefined;
    let low = 0;
    let high = tree.offsets.length - 1;
    while (low <= high) {
      const middle = (low + high) >> 1;
      const at = tree.offsets[middle]!;
      if (at === offset) return { tree, index: middle };
      if (at < offset) low = middle + 1;
      else high = middle - 1;
    }
    return undefined;
  }

  /**
   * Takes a checkpoint read back from `iga.audit.v1` (its signature already checked) and compares it with the tree
   * rebuilt from the log: a tree now shorter than a published size, or with another root at that size, means the log
   * was edited. `foreign`: the checkpoint names another log (cluster or namespace) and says nothing about this one.
   */
  admitPublished(
    checkpoint: PublishedCheckpoint,
  ): { readonly agrees: true } | { readonly agrees: false; readonly reason: string } | { readonly foreign: true } {
    const tree = this.tree(checkpoint.topic, checkpoint.partition);
    if (tree.origin !== checkpoint.origin) return { foreign: true };
    this.remember(tree, checkpoint);
    if (tree.log.size < checkpoint.treeSize) {
      tree.tampered ??= `${tree.origin}: the log holds ${tree.log.size} records, but a checkpoint signed at ${checkpoint.signedAt} covered ${checkpoint.treeSize}: records were deleted or the log was truncated`;
    } else if (!tree.log.root(checkpoint.treeSize).equals(checkpoint.rootHash)) {
      tree.tampered ??= `${tree.origin}: the root of the first ${checkpoint.treeSize} records differs from the checkpoint signed at ${checkpoint.signedAt}: a record among them was changed, deleted, inserted or reordered`;
    }
    return tree.tampered === undefined ? { agrees: true } : { agrees: false, reason: tree.tampered };
  }

  /** Records a checkpoint this service published. */
  remember(tree: LogTree, checkpoint: PublishedCheckpoint): void {
    if (tree.checkpoints.some((known) => known.treeSize === checkpoint.treeSize && known.rootHash.equals(checkpoint.rootHash))) return;
    tree.checkpoints.push(checkpoint);
    tree.checkpoints.sort((a, b) => a.treeSize - b.treeSize);
  }

  /** The trees whose log no longer matches what was published of them. */
  tampered(): LogTree[] {
    return this.all().filter((tree) => tree.tampered !== undefined);
  }
}
