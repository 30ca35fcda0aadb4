import { IdSchema } from '../common/primitives.schema';
import { EVENT_TYPE_PATTERN } from '../envelope/envelope.schema';

/**
 * What a dead letter may say about the record it refers to, and nothing more: the event it claims to be (id and
 * type, when they are well-formed) and reasons scrubbed of the record's values. Pure, so the v1 → v2 upcaster and
 * the messaging lib use the same rules.
 */

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

/** The id and type a raw (parsed JSON) record claims, each only when well-formed; undefined when it claims neither. */
export function claimedEvent(raw: unknown): { id?: string; type?: string } | undefined {
  if (!isObject(raw)) return undefined;
  const id = IdSchema.safeParse(raw['id']);
  const type = typeof raw['type'] === 'string' && EVENT_TYPE_PATTERN.test(raw['type']) ? raw['type'] : undefined;
  if (!id.success && type === undefined) return undefined;
  return { ...(id.success ? { id: id.data } : {}), ...(type === undefined ? {} : { type }) };
}

/** Shorter strings are not worth hiding (and would shred ordinary words of a message). */
const MIN_REDACTED_LENGTH = 4;
const MAX_DEPTH = 32;
export const REDACTED = '[redacted]';

function stringLeaves(value: unknown, depth: number, into: Set<string>): void {
  if (depth > MAX_DEPTH) return;
  if (typeof value === 'string') {
    if (value.length >= MIN_REDACTED_LENGTH) into.add(value);
  } else if (Array.isArray(value)) {
    for (const item of value) stringLeaves(item, depth + 1, into);
  } else if (isObject(value)) {
    for (const nested of Object.values(value)) stringLeaves(nested, depth + 1, into);
  }
}

/** The CloudEvents attributes of an envelope: routing metadata (id, type, subject = the key, ...), not content. */
const ENVELOPE_ATTRIBUTES = new Set([
  'specversion',
  'id',
  'source',
  'type',
  'time',
  'subject',
  'datacontenttype',
  'dataschema',
  'correlationid',
  'causationid',
  'actor',
]);

/**
 * `text` with every string value of the raw record's content replaced by `[redacted]`: its `data` and anything that
 * is not a CloudEvents attribute. Zod's messages name fields and limits, not values, but a custom message could
 * quote one, and the value may be the very secret the record was refused for. The envelope's attributes stay (a
 * dead letter names the id, type and key anyway; `spec` as a source must not shred `iga.spec.x.v1`).
 */
export function withoutValues(text: string, raw: unknown): string {
  const leaves = new Set<string>();
  if (isObject(raw)) {
    for (const [key, nested] of Object.entries(raw)) if (!ENVELOPE_ATTRIBUTES.has(key)) stringLeaves(nested, 1, leaves);
  } else {
    stringLeaves(raw, 0, leaves);
  }
  // Longest first, so a value containing another is replaced whole.
  let scrubbed = text;
  for (const leaf of [...leaves].sort((a, b) => b.length - a.length)) scrubbed = scrubbed.split(leaf).join(REDACTED);
  return scrubbed;
}

/** Node's JSON.parse quotes the bytes around a syntax error; a reason must never carry them. */
export function withoutJsonSnippet(reason: string): string {
  const at = reason.indexOf('SyntaxError');
  return at < 0 ? reason : `${reason.slice(0, at)}SyntaxError: value is not valid JSON`;
}
