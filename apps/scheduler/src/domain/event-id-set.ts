import { hashWords, isCompactUuid, packUuid, unpackUuid } from './compact-id';

const SCRATCH = new Uint32Array(4);
/** The all-zero words mark an empty slot, so the nil UUID is kept with the other ids. */
const NIL = '00000000-0000-0000-0000-000000000000';
/** Grown by 1.5× at 80 % full (not doubled): 16 bytes an id / 0.53–0.8. */
const MAX_LOAD = 0.8;

/**
 * What a snapshot of the set holds (ADR 0037): a copy of the table's words, as they lie (restored as they are, the
 * same probe sequences find the same ids, with no rehash), and the ids kept as strings.
 */
export interface EventIdSetSnapshot {
  readonly words: Uint32Array<ArrayBuffer>;
  readonly compactCount: number;
  readonly others: readonly string[];
}

/**
 * The ids of the events the book applied: two or more per grant, kept for as long as the scheduler runs. UUID-shaped
 * ids (deterministicEventId's, intake's) are kept as 16 bytes in an open-addressing table (16 bytes an id, 20–30
 * with the table's free room, against about 90 for a string in a Set); any other id in a plain Set beside it.
 */
export class EventIdSet implements ReadonlySet<string> {
  private words = new Uint32Array(0);
  private capacity = 0;
  private compactCount = 0;
  private readonly others = new Set<string>();

  get size(): number {
    return this.compactCount + this.others.size;
  }

  has(id: string): boolean {
    if (id === NIL || !isCompactUuid(id)) return this.others.has(id);
    if (this.compactCount === 0) return false;
    return !this.isEmpty(this.find(id));
  }

  add(id: string): this {
    if (id === NIL || !isCompactUuid(id)) {
      this.others.add(id);
      return this;
    }
    if (this.compactCount + 1 > this.capacity * MAX_LOAD) this.resize(Math.max(64, Math.ceil(this.capacity * 1.5)));
    const at = this.find(id);
    if (!this.isEmpty(at)) return this;
    packUuid(id, this.words, at * 4);
    this.compactCount += 1;
    return this;
  }

  clone(): EventIdSet {
    const copy = new EventIdSet();
    copy.words = this.words.slice();
    copy.capacity = this.capacity;
    copy.compactCount = this.compactCount;
    for (const id of this.others) copy.others.add(id);
    return copy;
  }

  /** A copy of what the set holds, for a snapshot (`EventIdSet.fromSnapshot` restores it). */
  toSnapshot(): EventIdSetSnapshot {
    return { words: this.words.slice(), compactCount: this.compactCount, others: [...this.others] };
  }

  /**
   * The set a snapshot holds; it takes the snapshot's words as they are. Throws (RangeError) when they cannot be a
   * table this class wrote: a table with no free slot would make a lookup probe for ever, an id held in the wrong
   * place would never be found.
   */
  static fromSnapshot(snapshot: EventIdSetSnapshot): EventIdSet {
    const { words, compactCount, others } = snapshot;
    if (words.length % 4 !== 0) throw new RangeError(`an id table of ${words.length} words is not whole ids`);
    const capacity = words.length / 4;
    if (!Number.isInteger(compactCount) || compactCount < 0 || compactCount > capacity * MAX_LOAD) {
      throw new RangeError(`${compactCount} ids cannot be held in a table of ${capacity}`);
    }
    let held = 0;
    for (let at = 0; at < words.length; at += 4) if (words[at] !== 0 || words[at + 1] !== 0 || words[at + 2] !== 0 || words[at + 3] !== 0) held += 1;
    if (held !== compactCount) throw new RangeError(`the id table holds ${held} ids, its count says ${compactCount}`);
    const set = new EventIdSet();
    for (const id of others) {
      if (typeof id !== 'string' || (id !== NIL && isCompactUuid(id))) throw new RangeError(`${JSON.stringify(id)} does not belong beside the id table`);
      set.others.add(id);
    }
    set.words = words;
    set.capacity = capacity;
    set.compactCount = compactCount;
    return set;
  }

  /** Bytes held by the compact table (the strings in the fallback set are not counted). */
  get compactBytes(): number {
    return this.words.byteLength;
  }

  *values(): SetIterator<string> {
    for (let slot = 0; slot < this.capacity; slot += 1) if (!this.isEmpty(slot)) yield unpackUuid(this.words, slot * 4);
    yield* this.others;
  }

  keys(): SetIterator<string> {
    return this.values();
  }

  *entries(): SetIterator<[string, string]> {
    for (const id of this.values()) yield [id, id];
  }

  [Symbol.iterator](): SetIterator<string> {
    return this.values();
  }

  forEach(callback: (value: string, key: string, set: ReadonlySet<string>) => void, thisArg?: unknown): void {
    for (const id of this.values()) callback.call(thisArg, id, id, this);
  }

  /** The slot holding `id`, or the free slot where it belongs (linear probing; the table is never full). */
  private find(id: string): number {
    packUuid(id, SCRATCH, 0);
    return this.findWords(SCRATCH[0] as number, SCRATCH[1] as number, SCRATCH[2] as number, SCRATCH[3] as number);
  }

  private isEmpty(slot: number): boolean {
    const at = slot * 4;
    const words = this.words;
    return words[at] === 0 && words[at + 1] === 0 && words[at + 2] === 0 && words[at + 3] === 0;
  }

  private findWords(a: number, b: number, c: number, d: number): number {
    const capacity = this.capacity;
    let slot = hashWords(a, b, c, d) % capacity;
    const words = this.words;
    while (!this.isEmpty(slot)) {
      const at = slot * 4;
      if (words[at] === a && words[at + 1] === b && words[at + 2] === c && words[at + 3] === d) return slot;
      slot = slot + 1 === capacity ? 0 : slot + 1;
    }
    return slot;
  }

  private resize(capacity: number): void {
    const oldWords = this.words;
    const oldCapacity = this.capacity;
    this.words = new Uint32Array(capacity * 4);
    this.capacity = capacity;
    for (let slot = 0; slot < oldCapacity; slot += 1) {
      const at = slot * 4;
      if (oldWords[at] === 0 && oldWords[at + 1] === 0 && oldWords[at + 2] === 0 && oldWords[at + 3] === 0) continue;
      const a = oldWords[at] as number;
      const b = oldWords[at + 1] as number;
      const c = oldWords[at + 2] as number;
      const d = oldWords[at + 3] as number;
      const to = this.findWords(a, b, c, d);
      this.words.set(oldWords.subarray(at, at + 4), to * 4);
    }
  }
}
