/**
 * Failure classes the consumer runner understands. Anything a handler throws that is not a
 * RetriableError is terminal: it is dead-lettered with its reason, and the partition moves on.
 * Contract violations (bad JSON, invalid schema, unknown type) are terminal by nature: a retry
 * cannot make a poison message valid.
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

export function classifyError(error: unknown): ErrorClass {
  return error instanceof RetriableError ? 'retriable' : 'terminal';
}

export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
