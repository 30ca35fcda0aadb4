/**
 * Error classes a handler may throw to say what it believes about a failure. The consumer runner fails closed and
 * retries both until the handler succeeds (see failure-policy.ts): a handler's "terminal" verdict is often a
 * dependency blip in disguise (a MongoDB failover surfacing as a generic error), and dead-lettering it would skip
 * that event for good, a revocation included. The class only changes how loudly a failure is logged.
 * Only messages that cannot be decoded or validated are poison, and that is decided before any handler runs.
 */
export class RetriableError extends Error {
  override readonly name = 'RetriableError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export class TerminalError extends Error {
  override readonly name = 'TerminalError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export type ErrorClass = 'retriable' | 'terminal';

/** What the handler said about its failure; anything but a RetriableError counts as 'terminal'. */
export function classifyError(error: unknown): ErrorClass {
  return error instanceof RetriableError ? 'retriable' : 'terminal';
}

export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
