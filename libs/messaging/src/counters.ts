import type { MessagingMetrics } from './ports';

/** The bus's running totals; its collaborators add to the one instance, `metrics()` hands out copies. */
export type Counters = { -readonly [K in keyof MessagingMetrics]: number };

export function newCounters(): Counters {
  return { published: 0, consumed: 0, handled: 0, retried: 0, deadLettered: 0, halted: 0, duplicatesDropped: 0, commitFailures: 0 };
}
