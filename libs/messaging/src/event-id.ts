import { createHash } from 'node:crypto';

/**
 * A derived event's id is a pure function of what caused it, so a redelivered input can never
 * yield a second, distinct output event: the duplicate carries the same id and is dropped
 * downstream. Formatted as an RFC 4122 version-5-style UUID over SHA-256.
 */
export function deterministicEventId(...parts: readonly string[]): string {
  const hash = createHash('sha256');
  for (const part of parts) {
    hash.update(String(part.length));
    hash.update(':');
    hash.update(part);
  }
  const hex = hash.digest('hex').slice(0, 32).split('');
  hex[12] = '5';
  hex[16] = ((parseInt(hex[16] ?? '0', 16) & 0x3) | 0x8).toString(16);
  const h = hex.join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}
