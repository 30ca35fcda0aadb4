import type { TimerKind } from '@grantline/contracts';
import { UUID_LENGTH, grownCapacity, hashWords, isCompactUuid, packUuid, unpackUuid } from './compact-id';
import type { PendingTimer } from './scheduler.state';

const FREE = 0;
const COMPACT = 1;
/** The compact timer's target names its request as well as its grant. */
const WITH_REQUEST = 2;
/** The fields of a PendingTimer: a timer with any other is kept whole, never compacted (nothing is dropped). */
const TIMER_FIELDS = 7;
const SCRATCH = new Uint32Array(4);
/** The id table grows by 1.5× at 75 % full (4 bytes a timer / 0.5–0.75). */
const TABLE_MAX_LOAD = 0.75;

/**
 * What a snapshot of the index holds (ADR 0037): copies of its typed columns, tables and heap as they lie (restored
 * as they are, with no rehash and no re-heapify: the same slots, probe runs and heap order, so the restored index
 * answers and changes exactly as this one), the interned kinds and entitlement suffixes, and the timers kept whole.
 */
export interface TimerIndexSnapshot {
  readonly kinds: readonly string[];
  readonly suffixes: readonly string[];
  readonly kindOf: Uint8Array<ArrayBuffer>;
  readonly flags: Uint8Array<ArrayBuffer>;
  readonly due: Float64Array<ArrayBuffer>;
  readonly request: Uint32Array<ArrayBuffer>;
  readonly cause: Uint32Array<ArrayBuffer>;
  readonly suffixOf: Uint32Array<ArrayBuffer>;
  readonly position: Int32Array<ArrayBuffer>;
  readonly slots: number;
  readonly freeSlots: Int32Array<ArrayBuffer>;
  readonly table: Int32Array<ArrayBuffer>;
  readonly compactCount: number;
  readonly heap: Int32Array<ArrayBuffer>;
  readonly heapSize: number;
  /** Slot → timer, for the timers kept whole. */
  readonly whole: ReadonlyMap<number, PendingTimer>;
}

/**
 * The pending timers by id, and a min-heap on (due time, id) so a tick looks only at what is due instead of scanning
 * every timer. Built to hold a million grant expiries in little memory (ADR 0023): the typical grant timer —
 * `<kind>:<request uuid>:<entitlement>`, its target the grant (and its request), keyed and correlated by the
 * request, armed by an event with a UUID id — is kept as columns of typed arrays (the request and the causing event
 * as 16 bytes each, the entitlement as an interned number, the due time, the heap position), about 70 bytes a timer
 * with the tables' free room; `get` rebuilds the same PendingTimer. Every other timer is kept whole beside them.
 * The heap knows each timer's position, so a deleted or moved timer leaves nothing stale behind.
 */
export class TimerIndex implements ReadonlyMap<string, PendingTimer> {
  private kinds: string[] = [''];
  private kindCodes = new Map<string, number>();
  private suffixes: string[] = [];
  private suffixCodes = new Map<string, number>();

  /** Per slot: the kind's code (0: free), flags, due time, request and cause words, entitlement code, heap position. */
  private kindOf = new Uint8Array(0);
  private flags = new Uint8Array(0);
  private due = new Float64Array(0);
  private request = new Uint32Array(0);
  private cause = new Uint32Array(0);
  private suffixOf = new Uint32Array(0);
  private position = new Int32Array(0);
  private slots = 0;
  private freeSlots: number[] = [];

  /** Open addressing over the compact slots (slot + 1; 0 is empty), linear probing, deletion by backward shift. */
  private table = new Int32Array(0);
  private compactCount = 0;
  private whole = new Map<number, PendingTimer>();
  private wholeSlots = new Map<string, number>();

  private heap = new Int32Array(0);
  private heapSize = 0;

  /**
   * The last id looked up and its slot (-1: absent): evolve asks for the same timer two or three times in a row.
   * `#` fields: a cache, no part of what the index holds (specs compare books structurally).
   */
  #lastId: string | undefined;
  #lastSlot = -1;

  get size(): number {
    return this.compactCount + this.whole.size;
  }

  has(timerId: string): boolean {
    return this.slotOf(timerId) >= 0;
  }

  get(timerId: string): PendingTimer | undefined {
    const slot = this.slotOf(timerId);
    return slot < 0 ? undefined : this.timerAt(slot, timerId);
  }

  set(timerId: string, timer: PendingTimer): this {
    const existing = this.slotOf(timerId);
    // A compact timer re-armed (grant.activated after grant.created, a moved deadline) changes in place.
    if (existing >= 0 && ((this.flags[existing] as number) & COMPACT) !== 0 && this.writeCompact(existing, timerId, timer)) {
      const at = this.position[existing] as number;
      this.siftDown(this.siftUp(at));
      return this;
    }
    if (existing >= 0) this.release(existing);
    const slot = this.allocate();
    if (!this.storeCompact(slot, timerId, timer)) {
      this.kindOf[slot] = this.kindCode(timer.kind);
      this.flags[slot] = 0;
      this.due[slot] = timer.dueAt;
      this.whole.set(slot, timer);
      this.wholeSlots.set(timerId, slot);
    }
    this.heapPush(slot);
    this.#lastId = timerId;
    this.#lastSlot = slot;
    return this;
  }

  delete(timerId: string): boolean {
    const slot = this.slotOf(timerId);
    if (slot < 0) return false;
    this.release(slot);
    return true;
  }

  clear(): void {
    Object.assign(this, new TimerIndex());
    this.#lastId = undefined;
  }

  /** An independent copy. */
  clone(): TimerIndex {
    const copy = new TimerIndex();
    copy.kinds = [...this.kinds];
    copy.kindCodes = new Map(this.kindCodes);
    copy.suffixes = [...this.suffixes];
    copy.suffixCodes = new Map(this.suffixCodes);
    copy.kindOf = this.kindOf.slice();
    copy.flags = this.flags.slice();
    copy.due = this.due.slice();
    copy.request = this.request.slice();
    copy.cause = this.cause.slice();
    copy.suffixOf = this.suffixOf.slice();
    copy.position = this.position.slice();
    copy.slots = this.slots;
    copy.freeSlots = [...this.freeSlots];
    copy.table = this.table.slice();
    copy.compactCount = this.compactCount;
    copy.whole = new Map(this.whole);
    copy.wholeSlots = new Map(this.wholeSlots);
    copy.heap = this.heap.slice();
    copy.heapSize = this.heapSize;
    return copy;
  }

  /** A copy of what the index holds, for a snapshot (`TimerIndex.fromSnapshot` restores it). */
  toSnapshot(): TimerIndexSnapshot {
    return {
      kinds: [...this.kinds],
      suffixes: [...this.suffixes],
      kindOf: this.kindOf.slice(),
      flags: this.flags.slice(),
      due: this.due.slice(),
      request: this.request.slice(),
      cause: this.cause.slice(),
      suffixOf: this.suffixOf.slice(),
      position: this.position.slice(),
      slots: this.slots,
      freeSlots: Int32Array.from(this.freeSlots),
      table: this.table.slice(),
      compactCount: this.compactCount,
      heap: this.heap.slice(),
      heapSize: this.heapSize,
      whole: new Map(this.whole),
    };
  }

  /**
   * The index a snapshot holds; it takes the snapshot's arrays as they are. Throws (RangeError) when they cannot be
   * an index this class wrote (columns of different lengths, a heap or a count that disagrees with the slots): a
   * damaged index would fire the wrong timers, or none, without a word.
   */
  static fromSnapshot(snapshot: TimerIndexSnapshot): TimerIndex {
    const { kinds, suffixes, kindOf, flags, due, request, cause, suffixOf, position, slots, freeSlots, table, compactCount, heap, heapSize, whole } = snapshot;
    const fail = (why: string): never => {
      throw new RangeError(`not a timer index: ${why}`);
    };
    const capacity = kindOf.length;
    if ([flags, due, suffixOf, position, heap].some((column) => column.length !== capacity)) fail(`its columns are not all ${capacity} long`);
    if (request.length !== capacity * 4 || cause.length !== capacity * 4) fail(`its id columns are not ${capacity * 4} words long`);
    if (kinds[0] !== '' || kinds.length > 256 || kinds.some((kind) => typeof kind !== 'string')) fail('its kinds are not a kind table');
    if (suffixes.some((suffix) => typeof suffix !== 'string')) fail('its suffixes are not strings');
    const natural = (n: number): boolean => Number.isInteger(n) && n >= 0;
    if (!natural(slots) || slots > capacity || !natural(heapSize) || !natural(compactCount)) fail('its counts are out of range');
    let compact = 0;
    let free = 0;
    for (let slot = 0; slot < slots; slot += 1) {
      const kind = kindOf[slot] as number;
      if (kind === FREE) {
        free += 1;
        continue;
      }
      if (kind >= kinds.length) fail(`slot ${slot} has no kind`);
      if (((flags[slot] as number) & COMPACT) === 0) {
        if (whole.get(slot)?.kind !== kinds[kind]) fail(`slot ${slot} has no timer of its kind`);
      } else {
        compact += 1;
        if ((suffixOf[slot] as number) >= suffixes.length) fail(`slot ${slot} has no suffix`);
      }
    }
    if (compact !== compactCount) fail(`${compact} compact timers, its count says ${compactCount}`);
    if (compact + whole.size !== heapSize) fail(`${compact} compact and ${whole.size} whole timers, but ${heapSize} in its heap`);
    if (free !== freeSlots.length || freeSlots.some((slot) => slot >= slots || kindOf[slot] !== FREE)) fail('its free slots are not its free slots');
    for (const slot of whole.keys())
      if (!natural(slot) || slot >= slots || kindOf[slot] === FREE || ((flags[slot] as number) & COMPACT) !== 0) fail(`a whole timer at slot ${slot}`);
    for (let i = 0; i < heapSize; i += 1) {
      const slot = heap[i] as number;
      if (slot < 0 || slot >= slots || kindOf[slot] === FREE || position[slot] !== i) fail(`heap entry ${i} is not where its slot says`);
    }
    let indexed = 0;
    for (const entry of table) {
      if (entry === 0) continue;
      indexed += 1;
      if (entry < 0 || entry > slots || ((flags[entry - 1] as number) & COMPACT) === 0) fail('its id table points at no compact timer');
    }
    if (indexed !== compactCount || compactCount > table.length * TABLE_MAX_LOAD) fail('its id table does not hold its compact timers');

    const index = new TimerIndex();
    index.kinds = [...kinds];
    index.kindCodes = new Map(kinds.map((kind, code) => [kind, code]));
    index.kindCodes.delete('');
    index.suffixes = [...suffixes];
    index.suffixCodes = new Map(suffixes.map((suffix, code) => [suffix, code]));
    index.kindOf = kindOf;
    index.flags = flags;
    index.due = due;
    index.request = request;
    index.cause = cause;
    index.suffixOf = suffixOf;
    index.position = position;
    index.slots = slots;
    index.freeSlots = Array.from(freeSlots);
    index.table = table;
    index.compactCount = compactCount;
    index.whole = new Map(whole);
    index.wholeSlots = new Map([...whole].map(([slot, timer]) => [timer.timerId, slot]));
    if (index.wholeSlots.size !== whole.size) fail('two whole timers share an id');
    index.heap = heap;
    index.heapSize = heapSize;
    return index;
  }

  /** Pending timers due at `at`, earliest first (ties by id), at most `limit`; nothing is removed. */
  dueAt(at: number, limit: number): PendingTimer[] {
    const taken: number[] = [];
    const result: PendingTimer[] = [];
    while (result.length < limit && this.heapSize > 0) {
      const top = this.heap[0] as number;
      if ((this.due[top] as number) > at) break;
      this.heapRemove(0);
      taken.push(top);
      result.push(this.timerAt(top));
    }
    for (const slot of taken) this.heapPush(slot);
    return result;
  }

  /** The earliest pending due time, or undefined. */
  earliest(): number | undefined {
    return this.heapSize === 0 ? undefined : this.due[this.heap[0] as number];
  }

  /** Bytes of the typed columns and tables (timers kept whole are counted in `wholeCount`, not here). */
  get compactBytes(): number {
    const columns = [this.kindOf, this.flags, this.due, this.request, this.cause, this.suffixOf, this.position, this.table, this.heap];
    return columns.reduce((sum, column) => sum + column.byteLength, 0) + this.freeSlots.length * 8;
  }

  get wholeCount(): number {
    return this.whole.size;
  }

  *entries(): MapIterator<[string, PendingTimer]> {
    for (let slot = 0; slot < this.slots; slot += 1) {
      if (this.kindOf[slot] === FREE) continue;
      const timer = this.timerAt(slot);
      yield [timer.timerId, timer];
    }
  }

  *keys(): MapIterator<string> {
    for (const [timerId] of this.entries()) yield timerId;
  }

  *values(): MapIterator<PendingTimer> {
    for (const [, timer] of this.entries()) yield timer;
  }

  [Symbol.iterator](): MapIterator<[string, PendingTimer]> {
    return this.entries();
  }

  forEach(callback: (value: PendingTimer, key: string, map: ReadonlyMap<string, PendingTimer>) => void, thisArg?: unknown): void {
    for (const [timerId, timer] of this.entries()) callback.call(thisArg, timer, timerId, this);
  }

  private kindCode(kind: string): number {
    let code = this.kindCodes.get(kind);
    if (code === undefined) {
      code = this.kinds.length;
      if (code > 255) throw new RangeError('more than 255 timer kinds');
      this.kinds.push(kind);
      this.kindCodes.set(kind, code);
    }
    return code;
  }

  private suffixCode(suffix: string): number {
    let code = this.suffixCodes.get(suffix);
    if (code === undefined) {
      code = this.suffixes.length;
      this.suffixes.push(suffix);
      this.suffixCodes.set(suffix, code);
    }
    return code;
  }

  /** Keeps the timer as columns when it has the typical shape; false (nothing stored) otherwise. */
  private storeCompact(slot: number, timerId: string, timer: PendingTimer): boolean {
    if (!this.writeCompact(slot, timerId, timer)) return false;
    this.tableInsert(slot);
    this.compactCount += 1;
    return true;
  }

  /** Writes the columns of a timer of the typical shape at `slot` (its id's columns included); false when it is not. */
  private writeCompact(slot: number, timerId: string, timer: PendingTimer): boolean {
    const { kind, target } = timer;
    const grantId = target.grantId;
    if (grantId === undefined || timer.timerId !== timerId || Object.keys(timer).length !== TIMER_FIELDS) return false;
    const targetKeys = Object.keys(target);
    if (targetKeys.some((key) => key !== 'grantId' && key !== 'requestId')) return false;
    if (grantId.length <= UUID_LENGTH + 1 || grantId[UUID_LENGTH] !== ':' || timerId !== `${kind}:${grantId}`) return false;
    const requestId = grantId.slice(0, UUID_LENGTH);
    if (!isCompactUuid(requestId) || !isCompactUuid(timer.causationId)) return false;
    if (timer.subject !== requestId || timer.correlationId !== requestId) return false;
    const withRequest = targetKeys.includes('requestId');
    if (withRequest && target.requestId !== requestId) return false;
    this.kindOf[slot] = this.kindCode(kind);
    this.flags[slot] = COMPACT | (withRequest ? WITH_REQUEST : 0);
    this.due[slot] = timer.dueAt;
    packUuid(requestId, this.request, slot * 4);
    packUuid(timer.causationId, this.cause, slot * 4);
    this.suffixOf[slot] = this.suffixCode(grantId.slice(UUID_LENGTH + 1));
    return true;
  }

  private timerAt(slot: number, knownId?: string): PendingTimer {
    const whole = this.whole.get(slot);
    if (whole !== undefined) return whole;
    const kind = this.kinds[this.kindOf[slot] as number] as TimerKind;
    const requestId = unpackUuid(this.request, slot * 4);
    const grantId = `${requestId}:${this.suffixes[this.suffixOf[slot] as number] as string}`;
    return {
      timerId: knownId ?? `${kind}:${grantId}`,
      kind,
      dueAt: this.due[slot] as number,
      target: ((this.flags[slot] as number) & WITH_REQUEST) !== 0 ? { grantId, requestId } : { grantId },
      subject: requestId,
      correlationId: requestId,
      causationId: unpackUuid(this.cause, slot * 4),
    };
  }

  /** The slot of a pending timer, or -1. */
  private slotOf(timerId: string): number {
    if (timerId === this.#lastId) return this.#lastSlot;
    const slot = this.findSlot(timerId);
    this.#lastId = timerId;
    this.#lastSlot = slot;
    return slot;
  }

  private findSlot(timerId: string): number {
    const whole = this.wholeSlots.get(timerId);
    if (whole !== undefined) return whole;
    if (this.compactCount === 0) return -1;
    const colon = timerId.indexOf(':');
    if (colon < 0 || timerId.length <= colon + UUID_LENGTH + 2 || timerId[colon + 1 + UUID_LENGTH] !== ':') return -1;
    const kind = this.kindCodes.get(timerId.slice(0, colon));
    const suffix = this.suffixCodes.get(timerId.slice(colon + UUID_LENGTH + 2));
    const requestId = timerId.slice(colon + 1, colon + 1 + UUID_LENGTH);
    if (kind === undefined || suffix === undefined || !isCompactUuid(requestId)) return -1;
    packUuid(requestId, SCRATCH, 0);
    const capacity = this.table.length;
    for (let i = this.hashOf(kind, suffix, SCRATCH, 0) % capacity; ; i = i + 1 === capacity ? 0 : i + 1) {
      const entry = this.table[i] as number;
      if (entry === 0) return -1;
      const slot = entry - 1;
      const at = slot * 4;
      if (
        this.kindOf[slot] === kind &&
        this.suffixOf[slot] === suffix &&
        this.request[at] === SCRATCH[0] &&
        this.request[at + 1] === SCRATCH[1] &&
        this.request[at + 2] === SCRATCH[2] &&
        this.request[at + 3] === SCRATCH[3]
      )
        return slot;
    }
  }

  private hashOf(kind: number, suffix: number, words: Uint32Array, at: number): number {
    return hashWords(words[at] as number, words[at + 1] as number, words[at + 2] as number, (words[at + 3] as number) ^ Math.imul(suffix, 0x9e3779b1), kind);
  }

  private homeOf(slot: number): number {
    return this.hashOf(this.kindOf[slot] as number, this.suffixOf[slot] as number, this.request, slot * 4) % this.table.length;
  }

  private tableInsert(slot: number): void {
    if (this.compactCount + 1 > this.table.length * TABLE_MAX_LOAD) {
      // The rehash enters every compact slot, this one included (its columns are written): entering it again would
      // leave a second entry behind, pointing at whatever the slot holds next.
      this.rehash(Math.max(64, Math.ceil(this.table.length * 1.5)));
      return;
    }
    const capacity = this.table.length;
    let i = this.homeOf(slot);
    while (this.table[i] !== 0) i = i + 1 === capacity ? 0 : i + 1;
    this.table[i] = slot + 1;
  }

  private tableRemove(slot: number): void {
    const capacity = this.table.length;
    const next = (k: number): number => (k + 1 === capacity ? 0 : k + 1);
    let i = this.homeOf(slot);
    while (this.table[i] !== slot + 1) i = next(i);
    // Backward shift: move later entries of the same probe run into the hole, so no tombstones are needed.
    for (let j = next(i); this.table[j] !== 0; j = next(j)) {
      const home = this.homeOf((this.table[j] as number) - 1);
      const between = i <= j ? home > i && home <= j : home > i || home <= j;
      if (between) continue;
      this.table[i] = this.table[j] as number;
      i = j;
    }
    this.table[i] = 0;
  }

  private rehash(capacity: number): void {
    this.table = new Int32Array(capacity);
    for (let slot = 0; slot < this.slots; slot += 1) {
      if (((this.flags[slot] as number) & COMPACT) === 0 || this.kindOf[slot] === FREE) continue;
      let i = this.homeOf(slot);
      while (this.table[i] !== 0) i = i + 1 === capacity ? 0 : i + 1;
      this.table[i] = slot + 1;
    }
  }

  private allocate(): number {
    const reused = this.freeSlots.pop();
    if (reused !== undefined) return reused;
    const slot = this.slots;
    if (slot >= this.kindOf.length) this.grow(grownCapacity(this.kindOf.length, slot + 1));
    this.slots += 1;
    return slot;
  }

  private grow(capacity: number): void {
    const widen = <T extends Uint8Array | Uint32Array | Int32Array | Float64Array>(from: T, make: (length: number) => T, width = 1): T => {
      const to = make(capacity * width);
      to.set(from);
      return to;
    };
    this.kindOf = widen(this.kindOf, (n) => new Uint8Array(n));
    this.flags = widen(this.flags, (n) => new Uint8Array(n));
    this.due = widen(this.due, (n) => new Float64Array(n));
    this.request = widen(this.request, (n) => new Uint32Array(n), 4);
    this.cause = widen(this.cause, (n) => new Uint32Array(n), 4);
    this.suffixOf = widen(this.suffixOf, (n) => new Uint32Array(n));
    this.position = widen(this.position, (n) => new Int32Array(n));
    this.heap = widen(this.heap, (n) => new Int32Array(n));
  }

  private release(slot: number): void {
    this.#lastId = undefined;
    this.heapRemove(this.position[slot] as number);
    if (((this.flags[slot] as number) & COMPACT) !== 0) {
      this.tableRemove(slot);
      this.compactCount -= 1;
    } else {
      const timer = this.whole.get(slot);
      this.whole.delete(slot);
      if (timer !== undefined) this.wholeSlots.delete(timer.timerId);
    }
    this.kindOf[slot] = FREE;
    this.flags[slot] = 0;
    this.freeSlots.push(slot);
  }

  /** Earlier due time first; the same due time by timer id, as the ids compare as strings. */
  private before(a: number, b: number): boolean {
    const dueA = this.due[a] as number;
    const dueB = this.due[b] as number;
    if (dueA !== dueB) return dueA < dueB;
    const compact = COMPACT;
    if (((this.flags[a] as number) & compact) === 0 || ((this.flags[b] as number) & compact) === 0) return this.timerAt(a).timerId < this.timerAt(b).timerId;
    const kindA = this.kindOf[a] as number;
    const kindB = this.kindOf[b] as number;
    // Kind names hold no ':', so `<kind>:` prefixes that differ decide the comparison within the shorter one.
    if (kindA !== kindB) return `${this.kinds[kindA] as string}:` < `${this.kinds[kindB] as string}:`;
    for (let k = 0; k < 4; k += 1) {
      const wordA = this.request[a * 4 + k] as number;
      const wordB = this.request[b * 4 + k] as number;
      if (wordA !== wordB) return wordA < wordB;
    }
    return (this.suffixes[this.suffixOf[a] as number] as string) < (this.suffixes[this.suffixOf[b] as number] as string);
  }

  private heapPush(slot: number): void {
    const i = this.heapSize;
    this.heapSize += 1;
    this.heap[i] = slot;
    this.position[slot] = i;
    this.siftUp(i);
  }

  private heapRemove(i: number): void {
    const last = this.heapSize - 1;
    this.heapSize = last;
    if (i === last) return;
    const moved = this.heap[last] as number;
    this.heap[i] = moved;
    this.position[moved] = i;
    this.siftDown(this.siftUp(i));
  }

  private siftUp(start: number): number {
    const heap = this.heap;
    let i = start;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(heap[i] as number, heap[parent] as number)) break;
      this.swap(i, parent);
      i = parent;
    }
    return i;
  }

  private siftDown(start: number): void {
    const heap = this.heap;
    let i = start;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (left < this.heapSize && this.before(heap[left] as number, heap[smallest] as number)) smallest = left;
      if (right < this.heapSize && this.before(heap[right] as number, heap[smallest] as number)) smallest = right;
      if (smallest === i) return;
      this.swap(i, smallest);
      i = smallest;
    }
  }

  private swap(i: number, j: number): void {
    const a = this.heap[i] as number;
    const b = this.heap[j] as number;
    this.heap[i] = b;
    this.heap[j] = a;
    this.position[b] = i;
    this.position[a] = j;
  }
}
