import { createErrorMapper, toConnectorError } from '@grantline/connector-sdk';
import type { ProviderErrorClassifier, ProviderErrorMapping } from '@grantline/connector-sdk';

/** A SCIM service provider answered with a status outside 2xx (RFC 7644 §3.12). */
export class ScimHttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly scimType?: string,
    /** The raw Retry-After header (delta-seconds or an HTTP-date), when the server sent one. */
    readonly retryAfter?: string,
  ) {
    super(message);
    this.name = 'ScimHttpError';
  }
}

/** The server answered 2xx with something that is not the SCIM resource or list it must be. */
export class ScimProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScimProtocolError';
  }
}

type Mapping = Omit<ProviderErrorMapping, 'providerCode'>;
const retriable = (code: Mapping['code']): Mapping => ({ code, errorClass: 'retriable' });
const terminal = (code: Mapping['code']): Mapping => ({ code, errorClass: 'terminal' });

const BY_STATUS: Readonly<Record<number, Mapping>> = {
  400: terminal('invalid_request'), // invalidFilter, invalidSyntax, invalidValue, noTarget, ...
  401: terminal('permission_denied'), // the bearer token is missing, wrong or expired
  403: terminal('permission_denied'), // the token may not do this
  404: terminal('not_found'),
  408: retriable('timeout'),
  409: terminal('conflict'), // uniqueness: somebody else owns the value
  // If-Match named a version the resource has left: another writer got there first; reading again resolves it.
  412: retriable('conflict'),
  413: terminal('invalid_request'),
  429: retriable('rate_limited'),
  500: retriable('unavailable'),
  501: terminal('invalid_request'), // the provider does not implement the operation: retrying cannot help
  502: retriable('unavailable'),
  503: retriable('unavailable'),
  504: retriable('timeout'),
};

/** undici's own socket codes, beside the SDK's generic ones (ECONNREFUSED, ETIMEDOUT, ...). */
const UNDICI_CODES: Readonly<Record<string, Mapping>> = {
  UND_ERR_CONNECT_TIMEOUT: retriable('timeout'),
  UND_ERR_HEADERS_TIMEOUT: retriable('timeout'),
  UND_ERR_BODY_TIMEOUT: retriable('timeout'),
  UND_ERR_SOCKET: retriable('unavailable'),
  UND_ERR_CLOSED: retriable('unavailable'),
};

/**
 * Retry-After (RFC 9110 §10.2.3) in milliseconds: delta-seconds or an HTTP-date, `now` injected. Anything else is
 * no hint at all (the retry loop's own backoff applies), never a reason to give up.
 */
export function retryAfterMs(header: string | undefined, now: number = Date.now()): number | undefined {
  if (header === undefined) return undefined;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

export const classifyScimError: ProviderErrorClassifier = (error) => {
  if (error instanceof ScimHttpError) {
    const mapped = BY_STATUS[error.status] ?? (error.status >= 500 ? retriable('unavailable') : terminal('invalid_request'));
    const providerCode = error.scimType === undefined ? `http_${error.status}` : `http_${error.status}:${error.scimType}`;
    return { ...mapped, providerCode, retryAfterMs: retryAfterMs(error.retryAfter) };
  }
  if (error instanceof ScimProtocolError) return { ...terminal('unknown'), providerCode: 'scim_protocol' };
  // fetch's own timeout (AbortSignal.timeout) and an aborted request.
  // (a DOMException, which is not an Error in every realm: recognised by its name)
  const name = typeof error === 'object' && error !== null ? (error as { name?: unknown }).name : undefined;
  if (name === 'TimeoutError' || name === 'AbortError') return { ...retriable('timeout'), providerCode: name };
  // fetch reports every socket failure as TypeError('fetch failed') with the system error as its cause (a TypeError
  // of Node's own realm, so recognised by name: `instanceof` fails inside a jest sandbox).
  const cause = typeof error === 'object' && error !== null ? (error as { cause?: unknown }).cause : undefined;
  if (name === 'TypeError' && cause !== undefined) {
    const code = (cause as { code?: unknown }).code;
    if (typeof code === 'string' && UNDICI_CODES[code] !== undefined) return { ...UNDICI_CODES[code], providerCode: code };
    const inner = toConnectorError(cause);
    if (inner.code !== 'unknown') return { code: inner.code, errorClass: inner.errorClass, providerCode: inner.providerCode };
    return { ...retriable('unavailable'), providerCode: 'fetch_failed' };
  }
  return undefined;
};

export const toScimConnectorError = createErrorMapper(classifyScimError);
