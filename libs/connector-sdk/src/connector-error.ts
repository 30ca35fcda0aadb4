/**
 * One error taxonomy for every connector. The provisioning service only ever sees these codes,
 * so a retry policy, an alert or a dashboard never has to know which target system failed.
 */
export const CONNECTOR_ERROR_CODES = [
  'unavailable',
  'timeout',
  'rate_limited',
  'permission_denied',
  'not_found',
  'invalid_request',
  'conflict',
  'unknown',
] as const;

export type ConnectorErrorCode = (typeof CONNECTOR_ERROR_CODES)[number];

export type ConnectorErrorClass = 'retriable' | 'terminal';

/**
 * Default class per code. `conflict` is terminal by default (two owners disagree about the
 * target) but a mapper may mark a transient conflict (deadlock, serialisation failure)
 * retriable. `unknown` is terminal: retrying what we cannot explain hammers the target and
 * delays the alert a human needs.
 */
export const DEFAULT_ERROR_CLASS: Readonly<Record<ConnectorErrorCode, ConnectorErrorClass>> = {
  unavailable: 'retriable',
  timeout: 'retriable',
  rate_limited: 'retriable',
  permission_denied: 'terminal',
  not_found: 'terminal',
  invalid_request: 'terminal',
  conflict: 'terminal',
  unknown: 'terminal',
};

export interface ConnectorErrorOptions {
  /** Overrides the default class of the code. */
  errorClass?: ConnectorErrorClass;
  /** Provider-specific code kept for diagnosis (e.g. a SQLSTATE), never used for decisions. */
  providerCode?: string;
  /** A hint from the provider (e.g. Retry-After); the retry loop waits at least this long. */
  retryAfterMs?: number;
  cause?: unknown;
}

export class ConnectorError extends Error {
  readonly code: ConnectorErrorCode;
  readonly errorClass: ConnectorErrorClass;
  readonly providerCode: string | undefined;
  readonly retryAfterMs: number | undefined;

  constructor(code: ConnectorErrorCode, message: string, options: ConnectorErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ConnectorError';
    this.code = code;
    this.errorClass = options.errorClass ?? DEFAULT_ERROR_CLASS[code];
    this.providerCode = options.providerCode;
    this.retryAfterMs = options.retryAfterMs;
  }

  get retriable(): boolean {
    return this.errorClass === 'retriable';
  }
}

export function isConnectorError(error: unknown): error is ConnectorError {
  return error instanceof ConnectorError;
}

/** What a provider-specific classifier returns for an error it recognises. */
export interface ProviderErrorMapping {
  code: ConnectorErrorCode;
  errorClass?: ConnectorErrorClass;
  message?: string;
  providerCode?: string;
  retryAfterMs?: number;
}

/** Returns a mapping for errors it recognises, `undefined` to fall through to the generic rules. */
export type ProviderErrorClassifier = (error: unknown) => ProviderErrorMapping | undefined;

// Socket-level failures look the same whatever protocol runs on top, so every connector gets
// them for free and only has to classify its provider's own codes.
const NETWORK_ERROR_CODES: Readonly<Record<string, ConnectorErrorCode>> = {
  ECONNREFUSED: 'unavailable',
  ECONNRESET: 'unavailable',
  EHOSTUNREACH: 'unavailable',
  ENETUNREACH: 'unavailable',
  EPIPE: 'unavailable',
  EAI_AGAIN: 'unavailable',
  ENOTFOUND: 'unavailable',
  ETIMEDOUT: 'timeout',
  ESOCKETTIMEDOUT: 'timeout',
};

function errorCodeOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  const code = (error as { code: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return typeof error === 'string' ? error : 'non-error value thrown';
}

function networkMapping(error: unknown): ProviderErrorMapping | undefined {
  // AggregateError: Node's happy-eyeballs connect reports one error per address tried.
  if (error instanceof AggregateError) {
    for (const inner of error.errors) {
      const mapped = networkMapping(inner);
      if (mapped) return mapped;
    }
  }
  const code = errorCodeOf(error);
  const mapped = code === undefined ? undefined : NETWORK_ERROR_CODES[code];
  return mapped === undefined ? undefined : { code: mapped, providerCode: code };
}

/**
 * Turns anything a provider threw into a ConnectorError: already-mapped errors pass through,
 * then the connector's classifier, then socket errors, then `unknown` (terminal).
 */
export function toConnectorError(error: unknown, classify?: ProviderErrorClassifier): ConnectorError {
  if (isConnectorError(error)) return error;
  const mapping = classify?.(error) ?? networkMapping(error);
  const message = messageOf(error);
  if (!mapping) return new ConnectorError('unknown', message, { cause: error, providerCode: errorCodeOf(error) });
  return new ConnectorError(mapping.code, mapping.message ?? message, {
    errorClass: mapping.errorClass,
    providerCode: mapping.providerCode ?? errorCodeOf(error),
    retryAfterMs: mapping.retryAfterMs,
    cause: error,
  });
}

/** Binds a classifier once; connectors wrap every provider call with the result. */
export function createErrorMapper(classify: ProviderErrorClassifier): (error: unknown) => ConnectorError {
  return (error) => toConnectorError(error, classify);
}
