import { HttpException } from '@nestjs/common';
import type { z } from 'zod';

/** One bad field, as a dotted path into the body (`subject.id`, `entitlementIds.0`), or a header / parameter name. */
export interface FieldError {
  readonly field: string;
  readonly message: string;
}

/** One problem inside a submitted document (a policy bundle file), as `file:line:column`. */
export interface LocatedError {
  readonly location: string;
  readonly message: string;
}

export type ProblemError = FieldError | LocatedError;

/** RFC 9457 problem details, with what was wrong listed under `errors`. */
export interface ProblemDetails {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly errors?: readonly ProblemError[];
}

/** A kind of problem: the last segment of its `type` URI, its title and its HTTP status. */
export interface ProblemType {
  readonly slug: string;
  readonly title: string;
  readonly status: number;
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
export const PROBLEM_TYPE_BASE = 'https://grantline.dev/problems/';

/**
 * The kinds every service's edge answers with. A service names its own kinds (`request-closed`,
 * `self_approval`...) as ProblemType values beside its controllers: their slugs are part of its API.
 */
export const PROBLEMS = {
  invalidRequest: { slug: 'invalid-request', title: 'Invalid request', status: 400 },
  invalidBody: { slug: 'invalid-body', title: 'Invalid request body', status: 400 },
  invalidQuery: { slug: 'invalid-query', title: 'Invalid request query', status: 400 },
  unauthenticated: { slug: 'unauthenticated', title: 'Authentication required', status: 401 },
  forbidden: { slug: 'forbidden', title: 'Forbidden', status: 403 },
  notFound: { slug: 'not-found', title: 'Not found', status: 404 },
  payloadTooLarge: { slug: 'payload-too-large', title: 'Payload too large', status: 413 },
  unsupportedMediaType: { slug: 'unsupported-media-type', title: 'Unsupported media type', status: 415 },
  internal: { slug: 'internal', title: 'Internal error', status: 500 },
} as const satisfies Record<string, ProblemType>;

export function problem(type: ProblemType, detail: string, errors?: readonly ProblemError[]): ProblemDetails {
  return { type: `${PROBLEM_TYPE_BASE}${type.slug}`, title: type.title, status: type.status, detail, ...(errors && errors.length > 0 ? { errors } : {}) };
}

/** Thrown anywhere in a request; ProblemDetailsFilter writes it as application/problem+json. */
export class ProblemException extends HttpException {
  constructor(readonly problem: ProblemDetails) {
    super(problem, problem.status);
  }

  static of(type: ProblemType, detail: string, errors?: readonly ProblemError[]): ProblemException {
    return new ProblemException(problem(type, detail, errors));
  }
}

export interface FieldErrorOptions {
  /** Prepended to every path, when the schema validated a sub-document. */
  readonly prefix?: readonly (string | number)[];
  /** The name of an error about the whole input rather than one field. */
  readonly root?: string;
}

/** Field errors from a zod error; paths joined with dots. */
export function fieldErrorsOf(error: z.ZodError, options: FieldErrorOptions = {}): FieldError[] {
  const prefix = options.prefix ?? [];
  const root = options.root ?? '(body)';
  const seen = new Set<string>();
  const errors: FieldError[] = [];
  const add = (path: readonly PropertyKey[], message: string): void => {
    // A union reports every branch; the caller's field name is what matters, once per message.
    const field = [...prefix, ...path].map(String).join('.') || root;
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

/** A 400 naming every bad field; the detail repeats them for clients that only show `detail`. */
export function invalidInput(errors: readonly FieldError[], type: ProblemType = PROBLEMS.invalidRequest): ProblemException {
  return ProblemException.of(type, errors.map((e) => `${e.field}: ${e.message}`).join('; '), errors);
}
