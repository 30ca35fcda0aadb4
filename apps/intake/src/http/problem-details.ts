import { HttpException } from '@nestjs/common';
import type { z } from 'zod';

/** One bad field, as a dotted path into the body (`subject.id`, `entitlementIds.0`), or a header / parameter name. */
export interface FieldError {
  readonly field: string;
  readonly message: string;
}

/** RFC 9457 problem details, with the bad fields listed under `errors`. */
export interface ProblemDetails {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly errors?: readonly FieldError[];
  readonly instance?: string;
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
const PROBLEM_BASE = 'https://grantline.dev/problems/';

export type ProblemKind =
  | 'invalid-request'
  | 'unauthenticated'
  | 'forbidden'
  | 'not-found'
  | 'request-closed'
  | 'idempotency-key-reused'
  | 'idempotency-key-in-use'
  | 'payload-too-large'
  | 'unsupported-media-type'
  | 'event-log-unavailable'
  | 'internal';

const TITLES: Record<ProblemKind, { title: string; status: number }> = {
  'invalid-request': { title: 'Invalid request', status: 400 },
  unauthenticated: { title: 'Authentication required', status: 401 },
  forbidden: { title: 'Forbidden', status: 403 },
  'not-found': { title: 'Not found', status: 404 },
  'request-closed': { title: 'Request already closed', status: 409 },
  'idempotency-key-in-use': { title: 'Idempotency key in use', status: 409 },
  'payload-too-large': { title: 'Payload too large', status: 413 },
  'unsupported-media-type': { title: 'Unsupported media type', status: 415 },
  'idempotency-key-reused': { title: 'Idempotency key reused with a different request', status: 422 },
  'event-log-unavailable': { title: 'Event log unavailable', status: 503 },
  internal: { title: 'Internal error', status: 500 },
};

export function problem(kind: ProblemKind, detail: string, errors?: readonly FieldError[]): ProblemDetails {
  const { title, status } = TITLES[kind];
  return { type: `${PROBLEM_BASE}${kind}`, title, status, detail, ...(errors && errors.length > 0 ? { errors } : {}) };
}

/** Thrown anywhere in a request; the filter writes it as application/problem+json. */
export class ProblemException extends HttpException {
  constructor(readonly problem: ProblemDetails) {
    super(problem, problem.status);
  }

  static of(kind: ProblemKind, detail: string, errors?: readonly FieldError[]): ProblemException {
    return new ProblemException(problem(kind, detail, errors));
  }
}

/** Field errors from a zod error; paths joined with dots, prefixed when the schema validated a sub-document. */
export function fieldErrorsOf(error: z.ZodError, prefix: readonly (string | number)[] = []): FieldError[] {
  const seen = new Set<string>();
  const errors: FieldError[] = [];
  const add = (path: readonly PropertyKey[], message: string): void => {
    // A union reports every branch; the caller's field name is what matters, once per message.
    const field = [...prefix, ...path].map(String).join('.') || '(body)';
    const key = `${field}\u0000${message}`;
    if (seen.has(key)) return;
    seen.add(key);
    errors.push({ field, message });
  };
  for (const issue of error.issues) {
    // An unexpected field (say, a `requesterId` trying to name the actor) is reported under its own name.
    if (issue.code === 'unrecognized_keys') for (const name of issue.keys) add([...issue.path, name], 'unknown field: not allowed here');
    else add(issue.path, issue.message);
  }
  return errors;
}

export function invalidRequest(errors: readonly FieldError[]): ProblemException {
  return ProblemException.of('invalid-request', errors.map((e) => `${e.field}: ${e.message}`).join('; '), errors);
}
