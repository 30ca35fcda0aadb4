import { eventMatchesValue, parseBundleCheckpointLine, parseBundleEventLine } from './bundle-lines';
import type { BundleCheckpointLine, BundleEventLine } from './bundle-lines';
import { parseCheckpoint, parseTreeOrigin } from './checkpoint';
import { EMPTY_ROOT, InclusionVerifier, MerkleLog, nodeHash, verifyConsistency } from './merkle';
import type { NodeHasher } from './merkle';
import { recordLeafHash } from './record-leaf';
import { openSignedNote, parseVerifierKey } from './signed-note';
import type { NoteVerifier } from './signed-note';

/** What went wrong at the first bad position. */
export type BadKind =
  | 'malformed' // the line cannot be read
  | 'checkpoint-signature' // a checkpoint note is not signed by the verifier key, or says something else than its line
  | 'checkpoint-inconsistent' // two checkpoints of a tree are not one append-only history
  | 'unexpected-record' // another record than the one due here: one was deleted, inserted or moved
  | 'changed' // the record's bytes are not those of the signed tree's leaf
  | 'event-mismatch' // `event` is not the JSON of the value bytes
  | 'coordinates' // topic/partition differ from the tree's, or offsets go backwards
  | 'missing' // the bundle ends before a tree's records do (truncated, or trailing records deleted)
  | 'root-mismatch'; // the tree recomputed from the records has another root than a signed checkpoint

export interface BadPosition {
  readonly file: 'events.jsonl' | 'checkpoints.jsonl';
  /** 1-based line number in that file (for 'missing' at the end: one past the last line). */
  readonly line: number;
  readonly origin: string;
  readonly topic: string;
  readonly partition: number;
  /** The leaf index due at that line (for a checkpoint line: the checkpoint's tree size). */
  readonly index: number;
  /** The offset the line claims, when it could be read. */
  readonly offset?: string;
  readonly kind: BadKind;
  readonly reason: string;
}

export interface TreeReport {
  readonly origin: string;
  readonly topic: string;
  readonly partition: number;
  readonly firstIndex: number;
  readonly records: number;
  readonly checkpoints: number;
  readonly lastCheckpointSize: number;
  /** The tree was recomputed from leaf 0 and its root matched every checkpoint it reached. */
  readonly recomputed: boolean;
  /** Records from leaf 0 up to the last checkpoint's size: the whole signed tree is in the bundle. */
  readonly complete: boolean;
  readonly rootsMatched: number;
}

export interface BundleVerifyReport {
  readonly ok: boolean;
  readonly events: number;
  readonly checkpoints: number;
  readonly trees: readonly TreeReport[];
  readonly firstBad?: BadPosition;
}

/** The records a tree is expected to have in the bundle, in events.jsonl order (from the manifest). */
export interface TreeExpectation {
  readonly origin: string;
  readonly firstIndex: number;
  readonly count: number;
}

/** One event line's results that depend on its bytes alone (one shape for all: the verifier's hot path reads it). */
class CachedEventLine {
  /** The roots this line's inclusion proof was checked against, with the outcome. */
  inclusion: { readonly root: Buffer; readonly ok: boolean } | undefined = undefined;

  constructor(
    readonly parsed: BundleEventLine | undefined,
    readonly error: string | undefined,
    readonly leafHash: Buffer | undefined,
    readonly eventMatches: boolean,
  ) {}
}

interface CachedCheckpointLine {
  readonly tree?: string;
  readonly size?: number;
  readonly root?: Buffer;
  readonly consistency?: { readonly fromSize: number; readonly hashes: readonly Buffer[] } | null;
  readonly error?: string;
  readonly kind?: BadKind;
  consistentWith?: { readonly root: Buffer; readonly size: number; readonly ok: boolean };
}

/**
 * Results that depend only on the exact bytes they were computed from, kept across verifications of bundles that
 * share most of their lines (the tamper spec verifies thousands of one-line mutations of one bundle). Sound because
 * equal bytes give equal results: an event line maps to its parse, leaf hash and event check (its inclusion proof
 * result is kept together with the root it was checked against); a checkpoint line to its opened note (for this
 * cache's one verifier key); and an interior node to the hash of its two children, by the children's identity
 * (the hashes are never mutated). A changed line is a different string, so it is verified from scratch.
 */
export class VerificationCache {
  readonly eventLines = new Map<string, CachedEventLine>();
  /**
   * The line last seen at each line number: a bundle's variants share most lines at the same numbers, and comparing
   * a line with the one at its number is cheaper than hashing it for the map (same string: a pointer comparison).
   */
  readonly eventLineAt: ({ readonly text: string; readonly entry: CachedEventLine } | undefined)[] = [];
  readonly verifier: NoteVerifier;
  readonly checkpointLines = new Map<string, CachedCheckpointLine>();
  private readonly nodes = new WeakMap<Buffer, Map<Buffer, Buffer>>();
  readonly nodeHash: NodeHasher = (left, right) => {
    let byRight = this.nodes.get(left);
    if (byRight === undefined) {
      byRight = new Map();
      this.nodes.set(left, byRight);
    }
    let hash = byRight.get(right);
    if (hash === undefined) {
      hash = nodeHash(left, right);
      byRight.set(right, hash);
    }
    return hash;
  };

  /** Per tree origin, the longest tree recomputed so far: a later verification shares its prefix (see SharedLogView). */
  readonly trees = new Map<string, MerkleLog>();

  constructor(readonly verifierKey: string) {
    this.verifier = parseVerifierKey(verifierKey);
  }
}

/** What the verifier needs of a recomputed tree. */
interface RecomputedTree {
  readonly size: number;
  append(leafHash: Buffer): number;
  root(size: number): Buffer;
}

/**
 * A tree recomputed over a cache's shared tree of the same origin: as long as this verification's leaves are the
 * shared tree's (same bytes at the same index) it only counts them; the first leaf that differs makes it copy the
 * prefix into a tree of its own. So the thousands of verifications of one bundle's variants hash the tree once.
 */
class SharedLogView implements RecomputedTree {
  private length = 0;
  private own: MerkleLog | undefined;

  constructor(
    private readonly shared: MerkleLog,
    private readonly hashNodes: NodeHasher,
  ) {}

  get size(): number {
    return this.own?.size ?? this.length;
  }

  append(leafHash: Buffer): number {
    if (this.own !== undefined) return this.own.append(leafHash);
    if (this.length === this.shared.size) this.shared.append(leafHash);
    else {
      const shared = this.shared.leaf(this.length);
      if (shared !== leafHash && !shared.equals(leafHash)) {
        this.own = new MerkleLog({ nodeHash: this.hashNodes });
        for (let index = 0; index < this.length; index += 1) this.own.append(this.shared.leaf(index));
        return this.own.append(leafHash);
      }
    }
    this.length += 1;
    return this.length - 1;
  }

  root(size: number): Buffer {
    if (size > this.size) throw new RangeError(`size: ${size} beyond the ${this.size} leaves recomputed`);
    return (this.own ?? this.shared).root(size);
  }
}

export interface BundleVerifierOptions {
  /** The C2SP verifier key every checkpoint must be signed by. */
  readonly verifierKey: string;
  /** The trees and their records in events.jsonl order; default: the checkpoints' trees, each from leaf 0 to its last checkpoint. */
  readonly trees?: readonly TreeExpectation[];
  /** Made with the same verifier key. */
  readonly cache?: VerificationCache;
}

interface TreeCheckpoint {
  readonly size: number;
  readonly root: Buffer;
  readonly line: number;
}

interface TreeState {
  readonly origin: string;
  readonly topic: string;
  readonly partition: number;
  readonly firstIndex: number;
  readonly count: number;
  readonly checkpoints: TreeCheckpoint[];
  nextIndex: number;
  lastOffset: string | undefined;
  log: RecomputedTree | undefined;
  /** Checks the records' inclusion proofs against the tree's last checkpoint. */
  inclusion: InclusionVerifier | undefined;
  /** The next checkpoint (by position in `checkpoints`) whose root the recomputed tree must match. */
  nextRootCheck: number;
  rootsMatched: number;
}

function coordinatesOf(origin: string): { topic: string; partition: number } {
  try {
    const { topic, partition } = parseTreeOrigin(origin);
    return { topic, partition };
  } catch {
    return { topic: '', partition: -1 };
  }
}

/** Decimal offsets without leading zeros: longer is larger, else compare as text. */
function offsetAfter(offset: string, previous: string): boolean {
  return offset.length !== previous.length ? offset.length > previous.length : offset > previous;
}

/**
 * The streaming verifier of an evidence bundle: feed every checkpoints.jsonl line, then every events.jsonl line, then
 * `finish()`. It stops judging at the first bad position, which it names; the rules are in the lib's README.
 */
export class BundleVerifier {
  private readonly verifier: NoteVerifier;
  private readonly cache: VerificationCache | undefined;
  private readonly hashNodes: NodeHasher;
  private readonly checkpointsByTree = new Map<string, TreeCheckpoint[]>();
  private readonly expectations: readonly TreeExpectation[] | undefined;
  private trees: TreeState[] | undefined;
  private treeCursor = 0;
  private checkpointLines = 0;
  private eventLines = 0;
  private bad: BadPosition | undefined;

  constructor(options: BundleVerifierOptions) {
    if (options.cache !== undefined && options.cache.verifierKey !== options.verifierKey) throw new Error('verification cache: made for another verifier key');
    this.verifier = options.cache?.verifier ?? parseVerifierKey(options.verifierKey);
    this.cache = options.cache;
    this.hashNodes = options.cache?.nodeHash ?? nodeHash;
    const seen = new Set<string>();
    for (const tree of options.trees ?? []) {
      if (seen.has(tree.origin)) throw new Error(`trees: ${tree.origin} is listed twice`);
      if (!Number.isSafeInteger(tree.firstIndex) || tree.firstIndex < 0 || !Number.isSafeInteger(tree.count) || tree.count < 0) {
        throw new Error(`trees: ${tree.origin} has no valid firstIndex and count`);
      }
      seen.add(tree.origin);
    }
    this.expectations = options.trees;
  }

  get failed(): boolean {
    return this.bad !== undefined;
  }

  /** One checkpoints.jsonl line, in file order. */
  addCheckpointLine(line: string): void {
    this.checkpointLines += 1;
    if (this.bad !== undefined) return;
    if (this.trees !== undefined) throw new Error('checkpoint lines come before event lines');
    const lineNumber = this.checkpointLines;
    const entry = this.checkpointEntry(line);
    const tree = entry.tree ?? '';
    const fail = (kind: BadKind, reason: string): void => {
      this.bad = { file: 'checkpoints.jsonl', line: lineNumber, origin: tree, ...coordinatesOf(tree), index: entry.size ?? 0, kind, reason };
    };
    if (entry.error !== undefined) return fail(entry.kind ?? 'malformed', entry.error);
    const size = entry.size!;
    const root = entry.root!;
    const history = this.checkpointsByTree.get(tree) ?? [];
    const previous = history[history.length - 1];
    if (previous === undefined) {
      if (entry.consistency !== null) return fail('malformed', 'consistency: the first checkpoint of a tree has no previous one to be consistent with');
    } else {
      if (size < previous.size)
        return fail('checkpoint-inconsistent', `tree size ${size} after a checkpoint of size ${previous.size} (line ${previous.line}): a log only grows`);
      if (entry.consistency === null || entry.consistency === undefined || entry.consistency.fromSize !== previous.size) {
        return fail(
          'checkpoint-inconsistent',
          `consistency: expected a proof from the previous checkpoint of this tree (size ${previous.size}, line ${previous.line})`,
        );
      }
      if (!this.consistent(entry, previous)) {
        return fail(
          'checkpoint-inconsistent',
          `the consistency proof from size ${previous.size} (line ${previous.line}) to ${size} does not verify: the signed trees are not one append-only log`,
        );
      }
    }
    history.push({ size, root, line: lineNumber });
    this.checkpointsByTree.set(tree, history);
  }

  /** One events.jsonl line, in file order. */
  addEventLine(line: string): void {
    this.eventLines += 1;
    if (this.bad !== undefined) return;
    const trees = this.startEvents();
    const lineNumber = this.eventLines;
    const tree = this.currentTree(lineNumber);
    if (this.bad !== undefined) return;
    if (tree === undefined) {
      const last = trees[trees.length - 1];
      this.failEvent(
        lineNumber,
        last,
        last === undefined ? 0 : last.firstIndex + last.count,
        'unexpected-record',
        'a record after the last one the bundle lists: an inserted record',
      );
      return;
    }
    const index = tree.nextIndex;
    const entry = this.eventEntry(line, lineNumber);
    if (entry.error !== undefined) return this.failEvent(lineNumber, tree, index, 'malformed', entry.error);
    const parsed = entry.parsed!;
    const { record } = parsed;
    const offset = record.offset;
    if (parsed.tree !== tree.origin || parsed.index !== index) {
      const found = parsed.tree === tree.origin ? `leaf ${parsed.index}` : `leaf ${parsed.index} of tree ${parsed.tree}`;
      return this.failEvent(
        lineNumber,
        tree,
        index,
        'unexpected-record',
        `expected leaf ${index}, found ${found}: a record was deleted, inserted or moved`,
        offset,
      );
    }
    if (record.topic !== tree.topic || record.partition !== tree.partition) {
      return this.failEvent(
        lineNumber,
        tree,
        index,
        'coordinates',
        `the record says ${record.topic}/${record.partition}, its tree is ${tree.topic}/${tree.partition}`,
        offset,
      );
    }
    const last = tree.checkpoints[tree.checkpoints.length - 1]!;
    if (parsed.proof.size !== last.size) {
      return this.failEvent(
        lineNumber,
        tree,
        index,
        'malformed',
        `proof.size: ${parsed.proof.size}, the inclusion proof must be against the last checkpoint (size ${last.size})`,
        offset,
      );
    }
    if (!this.included(entry, index, last, tree.inclusion!)) {
      return this.failEvent(
        lineNumber,
        tree,
        index,
        'changed',
        `the record is not leaf ${index} of the signed tree of size ${last.size} (line ${last.line} of checkpoints.jsonl): its bytes were changed`,
        offset,
      );
    }
    if (entry.eventMatches !== true) return this.failEvent(lineNumber, tree, index, 'event-mismatch', '`event` is not the JSON of the record value', offset);
    if (tree.lastOffset !== undefined && !offsetAfter(offset, tree.lastOffset)) {
      return this.failEvent(lineNumber, tree, index, 'coordinates', `offset ${offset} after offset ${tree.lastOffset}: a tree is in offset order`, offset);
    }
    tree.lastOffset = offset;
    tree.nextIndex += 1;
    if (tree.log !== undefined) {
      tree.log.append(entry.leafHash!);
      this.checkRoots(tree, lineNumber, offset);
    }
  }

  /** The report; call once, after the last line. */
  finish(): BundleVerifyReport {
    if (this.bad === undefined) {
      this.startEvents();
      const tree = this.currentTree(this.eventLines + 1);
      if (this.bad === undefined && tree !== undefined) {
        this.failEvent(
          this.eventLines + 1,
          tree,
          tree.nextIndex,
          'missing',
          `the bundle ends at leaf ${tree.nextIndex} of this tree, which has ${tree.firstIndex + tree.count}: records were deleted or the log truncated`,
        );
      }
    }
    const trees = this.trees ?? [];
    return {
      ok: this.bad === undefined,
      events: this.eventLines,
      checkpoints: this.checkpointLines,
      trees: trees.map((tree) => {
        const last = tree.checkpoints[tree.checkpoints.length - 1];
        return {
          origin: tree.origin,
          topic: tree.topic,
          partition: tree.partition,
          firstIndex: tree.firstIndex,
          records: tree.nextIndex - tree.firstIndex,
          checkpoints: tree.checkpoints.length,
          lastCheckpointSize: last?.size ?? 0,
          recomputed: tree.log !== undefined,
          complete: tree.firstIndex === 0 && last !== undefined && tree.nextIndex === last.size,
          rootsMatched: tree.rootsMatched,
        };
      }),
      ...(this.bad === undefined ? {} : { firstBad: this.bad }),
    };
  }

  private failEvent(line: number, tree: TreeState | undefined, index: number, kind: BadKind, reason: string, offset?: string): void {
    this.bad = {
      file: 'events.jsonl',
      line,
      origin: tree?.origin ?? '',
      topic: tree?.topic ?? '',
      partition: tree?.partition ?? -1,
      index,
      ...(offset === undefined ? {} : { offset }),
      kind,
      reason,
    };
  }

  /** The expected trees, set up when the first event line (or the end) arrives. */
  private startEvents(): TreeState[] {
    if (this.trees !== undefined) return this.trees;
    const expectations =
      this.expectations ?? [...this.checkpointsByTree].map(([origin, history]) => ({ origin, firstIndex: 0, count: history[history.length - 1]!.size }));
    this.trees = expectations.map((expected) => {
      const checkpoints = this.checkpointsByTree.get(expected.origin) ?? [];
      return {
        origin: expected.origin,
        ...coordinatesOf(expected.origin),
        firstIndex: expected.firstIndex,
        count: expected.count,
        checkpoints,
        nextIndex: expected.firstIndex,
        lastOffset: undefined,
        log: expected.firstIndex === 0 ? this.recomputedTree(expected.origin) : undefined,
        nextRootCheck: 0,
        rootsMatched: 0,
        inclusion: undefined,
      };
    });
    if (this.bad === undefined) {
      const listed = new Set(expectations.map((expected) => expected.origin));
      for (const [origin, history] of this.checkpointsByTree) {
        if (!listed.has(origin)) {
          const first = history[0]!;
          this.bad = {
            file: 'checkpoints.jsonl',
            line: first.line,
            origin,
            ...coordinatesOf(origin),
            index: first.size,
            kind: 'missing',
            reason: 'a tree with checkpoints that the bundle does not list: its records were removed',
          };
          break;
        }
      }
    }
    return this.trees;
  }

  private recomputedTree(origin: string): RecomputedTree {
    if (this.cache === undefined) return new MerkleLog();
    let shared = this.cache.trees.get(origin);
    if (shared === undefined) {
      shared = new MerkleLog({ nodeHash: this.hashNodes });
      this.cache.trees.set(origin, shared);
    }
    return new SharedLogView(shared, this.hashNodes);
  }

  /** The tree whose record is due next, after closing the trees that are complete; undefined at the end. */
  private currentTree(line: number): TreeState | undefined {
    const trees = this.trees!;
    while (this.treeCursor < trees.length) {
      const tree = trees[this.treeCursor]!;
      if (tree.nextIndex === tree.firstIndex) this.openTree(tree, line);
      if (this.bad !== undefined) return tree;
      if (tree.nextIndex < tree.firstIndex + tree.count) return tree;
      this.treeCursor += 1;
    }
    return undefined;
  }

  private openTree(tree: TreeState, line: number): void {
    if (tree.count === 0) return;
    const last = tree.checkpoints[tree.checkpoints.length - 1];
    if (last === undefined) {
      this.failEvent(line, tree, tree.firstIndex, 'missing', 'no signed checkpoint of this tree in the bundle: its records prove nothing');
    } else if (tree.firstIndex + tree.count > last.size) {
      this.failEvent(
        line,
        tree,
        last.size,
        'malformed',
        `the bundle lists leaves up to ${tree.firstIndex + tree.count - 1}, beyond the last checkpoint (size ${last.size})`,
      );
    } else {
      tree.inclusion = new InclusionVerifier(last.size, last.root, this.hashNodes);
      if (tree.log !== undefined) this.checkRoots(tree, line, undefined);
    }
  }

  /** Compares the recomputed root with every checkpoint whose size the tree has just reached. */
  private checkRoots(tree: TreeState, line: number, offset: string | undefined): void {
    const log = tree.log!;
    while (tree.nextRootCheck < tree.checkpoints.length && tree.checkpoints[tree.nextRootCheck]!.size <= log.size) {
      const checkpoint = tree.checkpoints[tree.nextRootCheck]!;
      const root = checkpoint.size === 0 ? EMPTY_ROOT : log.root(checkpoint.size);
      if (!root.equals(checkpoint.root)) {
        this.failEvent(
          line,
          tree,
          checkpoint.size - 1,
          'root-mismatch',
          `the tree recomputed from the records has another root at size ${checkpoint.size} than the checkpoint (line ${checkpoint.line} of checkpoints.jsonl)`,
          offset,
        );
        return;
      }
      tree.rootsMatched += 1;
      tree.nextRootCheck += 1;
    }
  }

  private eventEntry(line: string, lineNumber: number): CachedEventLine {
    const cache = this.cache;
    if (cache !== undefined) {
      const atLine = cache.eventLineAt[lineNumber];
      if (atLine !== undefined && atLine.text === line) return atLine.entry;
      const cached = cache.eventLines.get(line);
      if (cached !== undefined) {
        cache.eventLineAt[lineNumber] = { text: line, entry: cached };
        return cached;
      }
    }
    let entry: CachedEventLine;
    try {
      const parsed = parseBundleEventLine(line);
      const eventMatches = eventMatchesValue(parsed.event, parsed.record.value);
      entry = new CachedEventLine(parsed, undefined, recordLeafHash(parsed.record), eventMatches);
    } catch (error) {
      entry = new CachedEventLine(undefined, error instanceof Error ? error.message : String(error), undefined, false);
    }
    if (cache !== undefined) {
      cache.eventLines.set(line, entry);
      cache.eventLineAt[lineNumber] = { text: line, entry };
    }
    return entry;
  }

  private included(entry: CachedEventLine, index: number, checkpoint: TreeCheckpoint, inclusion: InclusionVerifier): boolean {
    if (entry.inclusion !== undefined && (entry.inclusion.root === checkpoint.root || entry.inclusion.root.equals(checkpoint.root))) return entry.inclusion.ok;
    const ok = inclusion.verify(entry.leafHash!, index, entry.parsed!.proof.hashes);
    entry.inclusion = { root: checkpoint.root, ok };
    return ok;
  }

  private checkpointEntry(line: string): CachedCheckpointLine {
    const cached = this.cache?.checkpointLines.get(line);
    if (cached !== undefined) return cached;
    let entry: CachedCheckpointLine;
    let parsed: BundleCheckpointLine | undefined;
    try {
      parsed = parseBundleCheckpointLine(line);
      let body: string;
      try {
        body = openSignedNote(parsed.note, this.verifier).body;
      } catch (error) {
        throw Object.assign(new Error((error as Error).message), { kind: 'checkpoint-signature' });
      }
      const checkpoint = parseCheckpoint(body);
      if (checkpoint.origin !== parsed.tree || checkpoint.size !== parsed.size) {
        entry = {
          tree: parsed.tree,
          size: parsed.size,
          kind: 'checkpoint-signature',
          error: `the signed note is a checkpoint of ${checkpoint.origin} at size ${checkpoint.size}, the line says ${parsed.tree} at ${parsed.size}`,
        };
      } else {
        entry = { tree: parsed.tree, size: parsed.size, root: checkpoint.rootHash, consistency: parsed.consistency };
      }
    } catch (error) {
      const kind = (error as { kind?: BadKind }).kind ?? 'malformed';
      entry = {
        ...(parsed === undefined ? {} : { tree: parsed.tree, size: parsed.size }),
        kind,
        error: error instanceof Error ? error.message : String(error),
      };
    }
    this.cache?.checkpointLines.set(line, entry);
    return entry;
  }

  private consistent(entry: CachedCheckpointLine, previous: TreeCheckpoint): boolean {
    const memo = entry.consistentWith;
    if (memo !== undefined && memo.size === previous.size && memo.root.equals(previous.root)) return memo.ok;
    const ok = verifyConsistency(previous.size, entry.size!, previous.root, entry.root!, entry.consistency!.hashes);
    entry.consistentWith = { root: previous.root, size: previous.size, ok };
    return ok;
  }
}
