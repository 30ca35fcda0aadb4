import { SnapshotUnusableError } from './state-snapshot';

// Shared by every state codec: the checks of a part read back, and the shapes sets and nested maps take in JSON.

// Reading the parts of a state snapshot back (ADR 0037): each check is one pass over the entries, and anything that
// fails it is a snapshot this service's codecs did not write, so the state is replayed from the log instead.

export const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
export const isString = (value: unknown): value is string => typeof value === 'string';
export const isNumber = (value: unknown): value is number => typeof value === 'number';
export const isStrings = (value: unknown): value is string[] => Array.isArray(value) && value.every(isString);

/** A part's entries as [key, value] pairs whose values pass `valid`. */
export function pairsOf<V>(entries: readonly unknown[], part: string, valid: (value: unknown) => boolean): [string, V][] {
  for (const entry of entries) {
    if (!Array.isArray(entry) || entry.length !== 2 || !isString(entry[0]) || !valid(entry[1])) {
      throw new SnapshotUnusableError(`part ${part} holds an entry that is not a [key, value] pair of the expected kind`);
    }
  }
  return entries as [string, V][];
}

/** A part's entries as [key, key, value] triples (a nested map flattened: owner, key, value). */
export function triplesOf<V>(entries: readonly unknown[], part: string, valid: (value: unknown) => boolean): [string, string, V][] {
  for (const entry of entries) {
    if (!Array.isArray(entry) || entry.length !== 3 || !isString(entry[0]) || !isString(entry[1]) || !valid(entry[2])) {
      throw new SnapshotUnusableError(`part ${part} holds an entry that is not an [owner, key, value] triple of the expected kind`);
    }
  }
  return entries as [string, string, V][];
}

export function stringsOf(entries: readonly unknown[], part: string): string[] {
  if (!isStrings(entries)) throw new SnapshotUnusableError(`part ${part} holds an entry that is not a string`);
  return entries;
}

/** A record written with its `seenEventIds` set as an array, with the set back (the parsed record is changed in place). */
export function withSeenSet<T extends { readonly seenEventIds: ReadonlySet<string> }>(value: unknown, part: string): T {
  const record = value as { seenEventIds: unknown };
  if (!isStrings(record.seenEventIds)) throw new SnapshotUnusableError(`part ${part} holds a record without its seen event ids`);
  record.seenEventIds = new Set(record.seenEventIds);
  return record as unknown as T;
}

/** The same record with its `seenEventIds` as an array, for JSON. */
export const withSeenArray = <T extends { readonly seenEventIds: ReadonlySet<string> }>(value: T): Omit<T, 'seenEventIds'> & { seenEventIds: string[] } => ({
  ...value,
  seenEventIds: [...value.seenEventIds],
});

export function* setsAsArrays(map: ReadonlyMap<string, ReadonlySet<string>>): Generator<[string, string[]]> {
  for (const [key, values] of map) yield [key, [...values]];
}

export const setsOf = (pairs: readonly [string, string[]][]): [string, Set<string>][] => pairs.map(([key, values]) => [key, new Set(values)]);

export function fill<K, V>(map: Map<K, V>, entries: Iterable<readonly [K, V]>): void {
  for (const [key, value] of entries) map.set(key, value);
}
