import { createHash, hash } from 'node:crypto';

// RFC 9162 section 2.1: a Merkle Tree Hash over SHA-256 with domain separation between leaves (0x00) and
// interior nodes (0x01), so a leaf can never be passed off as a node (second-preimage attacks on the tree).
const LEAF_PREFIX = 0x00;
const NODE_PREFIX = 0x01;

/** The root of the empty tree: SHA-256 of the empty string (RFC 9162 2.1.1). */
export const EMPTY_ROOT: Buffer = createHash('sha256').digest();

// One-shot hashing of one buffer: a third faster than a Hash object for the 65 bytes of a node, which a verifier
// hashes millions of times.
/** RFC 9162 2.1.1: SHA-256(0x00 || data). */
export function leafHash(data: Uint8Array): Buffer {
  const input = Buffer.allocUnsafe(data.length + 1);
  input[0] = LEAF_PREFIX;
  input.set(data, 1);
  return hash('sha256', input, 'buffer');
}

/** RFC 9162 2.1.1: SHA-256(0x01 || left || right). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  const input = Buffer.allocUnsafe(left.length + right.length + 1);
  input[0] = NODE_PREFIX;
  input.set(left, 1);
  input.set(right, left.length + 1);
  return hash('sha256', input, 'buffer');
}

export type NodeHasher = (left: Buffer, right: Buffer) => Buffer;

/** The largest power of two strictly smaller than n (n >= 2): RFC 9162's split point k. */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function assertSize(name: string, value: number, max: number): void {
  if (!Number.isSafeInteger(value) || value < 0 || value > max) throw new RangeError(`${name}: ${value} is not a whole number in 0..${max}`);
}

/**
 * An append-only Merkle tree (RFC 9162 2.1) kept in memory. Besides the leaves it keeps the hash of every complete,
 * aligned subtree (level L holds the hashes of the subtrees of 2^L leaves), filled as leaves arrive, so a root or a
 * proof for any size costs O(log n) hashes instead of rehashing the tree.
 */
export class MerkleLog {
  private readonly levels: Buffer[][] = [[]];
  private readonly hashNodes: NodeHasher;

  /** `hashNodes` defaults to {@link nodeHash}; a memoising one may be passed (see BundleVerifier's cache). */
  constructor(options: { readonly nodeHash?: NodeHasher } = {}) {
    this.hashNodes = options.nodeHash ?? nodeHash;
  }

  get size(): number {
    return this.levels[0]!.length;
  }

  /** Appends a leaf hash (32 bytes); returns the new leaf's index. */
  append(leafHashValue: Buffer): number {
    if (leafHashValue.length !== 32) throw new RangeError(`leaf hash: ${leafHashValue.length} bytes, expected 32`);
    const index = this.levels[0]!.push(leafHashValue) - 1;
    let level = 0;
    let position = index;
    // Every time the new leaf completes a subtree, its hash goes one level up.
    while (position % 2 === 1) {
      const nodes = this.levels[level]!;
      const parent = this.hashNodes(nodes[position - 1]!, nodes[position]!);
      level += 1;
      if (this.levels.length === level) this.levels.push([]);
      this.levels[level]!.push(parent);
      position = (position - 1) / 2;
    }
    return index;
  }

  /** The leaf hash at `index`. */
  leaf(index: number): Buffer {
    const leaf = this.levels[0]![index];
    if (leaf === undefined) throw new RangeError(`index: ${index} is not a leaf of a tree of size ${this.size}`);
    return leaf;
  }

  /** Root of the first `size` leaves (default all); the empty tree's root is SHA-256(""). */
  root(size: number = this.size): Buffer {
    assertSize('size', size, this.size);
    return size === 0 ? EMPTY_ROOT : this.subtree(0, size);
  }

  /** RFC 9162 2.1.3.1: the audit path of leaf `index` in the tree of the first `size` leaves. */
  inclusionProof(index: number, size: number = this.size): Buffer[] {
    assertSize('size', size, this.size);
    if (!Number.isSafeInteger(index) || index < 0 || index >= size) throw new RangeError(`index: ${index} is not a leaf of a tree of size ${size}`);
    const proof: Buffer[] = [];
    this.path(index, 0, size, proof);
    return proof;
  }

  /** RFC 9162 2.1.4.1: the proof that the tree of `oldSize` leaves is a prefix of the tree of `newSize` leaves. */
  consistencyProof(oldSize: number, newSize: number = this.size): Buffer[] {
    assertSize('newSize', newSize, this.size);
    assertSize('oldSize', oldSize, newSize);
    const proof: Buffer[] = [];
    if (oldSize > 0 && oldSize < newSize) this.subproof(oldSize, 0, newSize, true, proof);
    return proof;
  }

  /** MTH(D[start:end]) for 0 <= start < end <= size, start aligned as RFC 9162's recursion leaves it. */
  private subtree(start: number, end: number): Buffer {
    const width = end - start;
    // A complete aligned subtree is already known.
    if ((width & (width - 1)) === 0) {
      const level = Math.log2(width);
      return this.levels[level]![start / width]!;
    }
    const k = splitPoint(width);
    return this.hashNodes(this.subtree(start, start + k), this.subtree(start + k, end));
  }

  private path(index: number, start: number, end: number, proof: Buffer[]): void {
    const width = end - start;
    if (width === 1) return;
    const k = splitPoint(width);
    if (index < start + k) {
      this.path(index, start, start + k, proof);
      proof.push(this.subtree(start + k, end));
    } else {
      this.path(index, start + k, end, proof);
      proof.push(this.subtree(start, start + k));
    }
  }

  private subproof(m: number, start: number, end: number, whole: boolean, proof: Buffer[]): void {
    const width = end - start;
    if (m === width) {
      if (!whole) proof.push(this.subtree(start, end));
      return;
    }
    const k = splitPoint(width);
    if (m <= k) {
      this.subproof(m, start, start + k, whole, proof);
      proof.push(this.subtree(start + k, end));
    } else {
      this.subproof(m - k, start + k, end, false, proof);
      proof.push(this.subtree(start, start + k));
    }
  }
}

/** RFC 9162 2.1.3.2: does `proof` show the leaf at `index` in the tree of `size` leaves whose root is `root`? */
export function verifyInclusion(
  leafHashValue: Buffer,
  index: number,
  size: number,
  proof: readonly Buffer[],
  root: Buffer,
  hashNodes: NodeHasher = nodeHash,
): boolean {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) return false;
  let fn = index;
  let sn = size - 1;
  let r = leafHashValue;
  for (const p of proof) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = hashNodes(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = hashNodes(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && r.equals(root);
}

/** RFC 9162 2.1.4.2: does `proof` show the tree of `oldSize` leaves (root `oldRoot`) is a prefix of the newer one? */
export function verifyConsistency(oldSize: number, newSize: number, oldRoot: Buffer, newRoot: Buffer, proof: readonly Buffer[]): boolean {
  if (!Number.isSafeInteger(oldSize) || !Number.isSafeInteger(newSize) || oldSize < 0 || oldSize > newSize) return false;
  if (oldSize === newSize) return proof.length === 0 && oldRoot.equals(newRoot);
  // The empty tree is a prefix of every tree; there is nothing to prove.
  if (oldSize === 0) return proof.length === 0 && oldRoot.equals(EMPTY_ROOT);
  if (proof.length === 0) return false;
  const path = (oldSize & (oldSize - 1)) === 0 ? [oldRoot, ...proof] : [...proof];
  let fn = oldSize - 1;
  let sn = newSize - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr = path[0]!;
  let sr = path[0]!;
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return fr.equals(oldRoot) && sr.equals(newRoot) && sn === 0;
}

/**
 * Verifies many inclusion proofs against one tree head, as a bundle's consecutive leaves need: it remembers the nodes
 * of the last proof that verified, so the next proof is hashed only up to where its path joins that one (usually a
 * level or two), and its remaining elements are compared with the remembered ones. The outcome is exactly
 * {@link verifyInclusion}'s: from an equal node at the same place with equal remaining elements, the rest of the
 * computation is the same one that already reached the root.
 */
export class InclusionVerifier {
  // Per level of the remembered path: the node's coordinates (fn, sn), its hash, and the proof (and the position in
  // it) its remaining siblings come from.
  private readonly fns: number[] = [];
  private readonly sns: number[] = [];
  private readonly nodes: Buffer[] = [];
  private readonly proofs: (readonly Buffer[])[] = [];
  private readonly rests: number[] = [];
  private levels = 0;

  constructor(
    readonly size: number,
    readonly root: Buffer,
    private readonly hashNodes: NodeHasher = nodeHash,
  ) {}

  verify(leafHashValue: Buffer, index: number, proof: readonly Buffer[]): boolean {
    const size = this.size;
    if (!Number.isSafeInteger(index) || index < 0 || index >= size) return false;
    let fn = index;
    let sn = size - 1;
    let r = leafHashValue;
    let level = 0;
    const fns: number[] = [];
    const sns: number[] = [];
    const nodes: Buffer[] = [];
    const rests: number[] = [];
    for (let k = 0; k < proof.length; k += 1) {
      if (level < this.levels && this.fns[level] === fn && this.sns[level] === sn && this.nodes[level]!.equals(r) && this.sameRest(proof, k, level)) {
        // Joined the remembered path: remember this leaf's lower part of it, for the next leaf.
        this.remember(level, fns, sns, nodes, rests, proof);
        return true;
      }
      fns[level] = fn;
      sns[level] = sn;
      nodes[level] = r;
      rests[level] = k;
      const p = proof[k]!;
      if (sn === 0) return false;
      if (fn % 2 === 1 || fn === sn) {
        r = this.hashNodes(p, r);
        if (fn % 2 === 0) {
          while (fn % 2 === 0 && fn !== 0) {
            fn = Math.floor(fn / 2);
            sn = Math.floor(sn / 2);
            level += 1;
          }
        }
      } else {
        r = this.hashNodes(r, p);
      }
      fn = Math.floor(fn / 2);
      sn = Math.floor(sn / 2);
      level += 1;
    }
    if (sn !== 0 || !r.equals(this.root)) return false;
    this.remember(level, fns, sns, nodes, rests, proof);
    this.levels = level;
    return true;
  }

  /** Levels below `upTo` take this path's nodes; a level the shifts skipped holds none (fn -1 never matches). */
  private remember(upTo: number, fns: number[], sns: number[], nodes: Buffer[], rests: number[], proof: readonly Buffer[]): void {
    for (let at = 0; at < upTo; at += 1) {
      const fn = fns[at];
      this.fns[at] = fn ?? -1;
      this.sns[at] = sns[at] ?? -1;
      if (fn !== undefined) {
        this.nodes[at] = nodes[at]!;
        this.rests[at] = rests[at]!;
        this.proofs[at] = proof;
      }
    }
  }

  private sameRest(proof: readonly Buffer[], from: number, level: number): boolean {
    const last = this.proofs[level]!;
    const lastFrom = this.rests[level]!;
    if (proof.length - from !== last.length - lastFrom) return false;
    for (let k = from; k < proof.length; k += 1) {
      if (proof[k] !== last[k - from + lastFrom] && !proof[k]!.equals(last[k - from + lastFrom]!)) return false;
    }
    return true;
  }
}
