import type { ProblemType } from '@grantline/http-edge';

/** The intake's own problem kinds (the shared ones are PROBLEMS in @grantline/http-edge); slugs are API. */
export const INTAKE_PROBLEMS = {
  requestClosed: { slug: 'request-closed', title: 'Request already closed', status: 409 },
  idempotencyKeyReused: { slug: 'idempotency-key-reused', title: 'Idempotency key reused with a different request', status: 422 },
  eventLogUnavailable: { slug: 'event-log-unavailable', title: 'Event log unavailable', status: 503 },
} as const satisfies Record<string, ProblemType>;
