import { REDACTED, isSecretLikeKey } from '@grantline/contracts';

const PEM_PRIVATE_KEY = /-----BEGIN [A-Z ]*PRIVATE KEY-----/;
/** A JSON Web Token, or an Authorization header value. */
const TOKEN_LIKE = /^(?:eyJ[\w-]+\.[\w-]+\.[\w-]*|Bearer\s+\S+|Basic\s+\S+)$/i;
const MAX_DEPTH = 32;

function looksSecret(value: string): boolean {
  return PEM_PRIVATE_KEY.test(value) || TOKEN_LIKE.test(value.trim());
}

function walk(value: unknown, path: string, refused: ReadonlySet<string>, depth: number): unknown {
  if (refused.has(path)) return REDACTED;
  if (typeof value === 'string') return looksSecret(value) ? REDACTED : value;
  if (depth > MAX_DEPTH || value === null || typeof value !== 'object') return value;
  const child = (key: string | number): string => (path === '' ? String(key) : `${path}.${String(key)}`);
  if (Array.isArray(value)) return value.map((item, index) => walk(item, child(index), refused, depth + 1));
  return Object.fromEntries(
    Object.entries(value).map(([key, nested]) => [key, isSecretLikeKey(key) ? REDACTED : walk(nested, child(key), refused, depth + 1)]),
  );
}

/**
 * A copy of a parsed record fit to show an operator: secret-like keys (`password`, `token`, `apiKey`, ...), PEM
 * private keys, tokens and every field the record was refused for (`refusedPaths`, dotted from the envelope root:
 * the refused value may be the secret) become `[redacted]`. The record on the log is untouched.
 */
export function redactRecord(value: unknown, refusedPaths: readonly string[] = []): unknown {
  return walk(value, '', new Set(refusedPaths.filter((path) => path !== '')), 0);
}
