/**
 * Lower-case UUID text (what intake mints for request ids and `deterministicEventId` for event ids) as four 32-bit
 * words: 16 bytes instead of a 36-character string (about 56 bytes on the heap, plus a pointer to it). Lower case
 * only, so that comparing the words in order is comparing the strings.
 */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export const UUID_LENGTH = 36;

export function isCompactUuid(text: string): boolean {
  return text.length === UUID_LENGTH && UUID.test(text);
}

/** Writes the four words of `uuid` (checked with isCompactUuid) at `words[at..at+3]`. */
export function packUuid(uuid: string, words: Uint32Array, at: number): void {
  words[at] = hexDigits(uuid, 0, 8, 0);
  words[at + 1] = hexDigits(uuid, 14, 4, hexDigits(uuid, 9, 4, 0));
  words[at + 2] = hexDigits(uuid, 24, 4, hexDigits(uuid, 19, 4, 0));
  words[at + 3] = hexDigits(uuid, 28, 8, 0);
}

/** `count` lower-case hex digits of `text` from `from`, appended to `value` (no substrings: this runs per event). */
function hexDigits(text: string, from: number, count: number, value: number): number {
  let result = value;
  for (let i = from; i < from + count; i += 1) {
    const code = text.charCodeAt(i);
    result = result * 16 + (code <= 57 ? code - 48 : code - 87);
  }
  return result;
}

const BYTE_HEX = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'));
const hex8 = (word: number): string =>
  `${BYTE_HEX[word >>> 24] as string}${BYTE_HEX[(word >>> 16) & 255] as string}${BYTE_HEX[(word >>> 8) & 255] as string}${BYTE_HEX[word & 255] as string}`;

export function unpackUuid(words: Uint32Array, at: number): string {
  const b = hex8(words[at + 1] as number);
  const c = hex8(words[at + 2] as number);
  return `${hex8(words[at] as number)}-${b.slice(0, 4)}-${b.slice(4)}-${c.slice(0, 4)}-${c.slice(4)}${hex8(words[at + 3] as number)}`;
}

/** A 32-bit hash of four words (ids that differ only in their last digits spread over the whole table). */
export function hashWords(a: number, b: number, c: number, d: number, seed = 0): number {
  let h = Math.imul(a ^ seed, 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 15) ^ b, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13) ^ c, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16) ^ d, 0x27d4eb2f);
  return (h ^ (h >>> 15)) >>> 0;
}

/** Capacity growth of the typed arrays: 1.5× (doubling would leave up to half of a million-timer book unused). */
export function grownCapacity(current: number, needed: number): number {
  let capacity = Math.max(16, current);
  while (capacity < needed) capacity = Math.ceil(capacity * 1.5);
  return capacity;
}
