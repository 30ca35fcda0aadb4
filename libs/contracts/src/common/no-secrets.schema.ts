import { z } from 'zod';

// Names that carry a secret value. `...Ref`, `...Id`, `...Fingerprint` and friends are references, not values,
// so they stay allowed: `tokenRef` is fine, `token` is not.
const SECRET_KEY = /(secret|passw(or)?d|passphrase|private_?key|access_?key|api_?key|token|bearer|credential_?value|client_?secret|session_?key)/i;
const REFERENCE_SUFFIX = /(ref|reference|id|ids|fingerprint|type|kind|expiresat|ttl|name|path|version|count)$/i;
const PEM_PRIVATE_KEY = /-----BEGIN [A-Z ]*PRIVATE KEY-----/;
const MAX_DEPTH = 12;

/** True for a key that looks like it holds a secret value (see principle 8: events carry references only). */
export function isSecretLikeKey(key: string): boolean {
  const normalised = key.replace(/[-\s]/g, '_');
  return SECRET_KEY.test(normalised) && !REFERENCE_SUFFIX.test(normalised.replace(/_/g, ''));
}

function findSecrets(value: unknown, path: (string | number)[], found: { path: (string | number)[]; message: string }[]): void {
  if (path.length > MAX_DEPTH) return;
  if (typeof value === 'string') {
    if (PEM_PRIVATE_KEY.test(value)) found.push({ path, message: 'Secret value: a PEM private key must never travel in an event' });
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((item, index) => findSecrets(item, [...path, index], found));
    return;
  }
  if (value !== null && typeof value === 'object') {
    for (const [key, nested] of Object.entries(value)) {
      if (isSecretLikeKey(key)) {
        found.push({ path: [...path, key], message: `Secret field: "${key}" looks like a secret value; send a reference and a fingerprint instead` });
      } else {
        findSecrets(nested, [...path, key], found);
      }
    }
  }
}

/**
 * Wraps a schema so any secret-looking key (at any depth) or PEM private key is rejected with its path named.
 * The check runs on the raw input, before a strict object would drop or merely list the unknown key, and the
 * wrapped schema's own issues are reported alongside.
 */
export function withoutSecrets<T extends z.ZodType>(schema: T): z.ZodType<z.output<T>, unknown> {
  return z.unknown().transform((value, ctx): z.output<T> => {
    const found: { path: (string | number)[]; message: string }[] = [];
    findSecrets(value, [], found);
    for (const issue of found) ctx.issues.push({ code: 'custom', message: issue.message, path: issue.path, input: value });
    const parsed = schema.safeParse(value);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        // Re-raised as custom issues, keeping each path; an unknown key is reported at the key itself.
        const keys = issue.code === 'unrecognized_keys' ? issue.keys : [undefined];
        for (const key of keys) {
          const path = key === undefined ? issue.path : [...issue.path, key];
          if (key !== undefined && found.some((secret) => secret.path.join('.') === path.join('.'))) continue;
          ctx.issues.push({ code: 'custom', message: key === undefined ? issue.message : 'Unrecognized key', path, input: value });
        }
      }
      return z.NEVER;
    }
    return found.length > 0 ? z.NEVER : parsed.data;
  });
}
