import type { Envelope } from './envelope.schema';

/** The ids an event's data may name: its request, its grant. */
export type EventRef = 'requestId' | 'grantId';

/**
 * The request or grant an event names in its own data, or undefined when it names none (grant events after
 * `created` name only the grant; timers name neither). For consumers that route by aggregate across event types.
 */
export function refOf(event: Envelope, ref: EventRef): string | undefined {
  const data = event.data as Record<string, unknown> | null;
  const id = data !== null && typeof data === 'object' ? data[ref] : undefined;
  return typeof id === 'string' ? id : undefined;
}
