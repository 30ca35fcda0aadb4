import { TimerFired, registry } from '@grantline/contracts';
import type { EnvelopeOf, EventRegistry } from '@grantline/contracts';
import type { PendingTimer, SchedulerState } from './scheduler.state';

export const SCHEDULER_SOURCE = 'grantline/scheduler';

export type TimerFiredEvent = EnvelopeOf<typeof TimerFired>;

/** What a firing takes from outside the domain: how event ids are derived, and the registry that validates it. */
export interface FiringContext {
  /** Derives an event id from its parts (deterministicEventId in the service): the same parts give the same id. */
  readonly eventId: (...parts: string[]) => string;
  /** The contracts catalogue when absent. */
  readonly registry?: EventRegistry;
}

/** The event id of a timer's firing: a pure function of the timer id, so a restarted scheduler cannot fire it twice under two ids. */
export function timerFiredEventId(timerId: string, eventId: FiringContext['eventId']): string {
  return eventId('timer', timerId);
}

/**
 * Pending timers due at `now`, earliest first, at most `limit` of them: a tick does bounded work however large the
 * backlog (a scheduler restarted after a long outage catches up over several ticks, not in one blocking loop).
 */
export function due(state: SchedulerState, now: Date, limit = Number.POSITIVE_INFINITY): PendingTimer[] {
  const at = now.getTime();
  const ready: PendingTimer[] = [];
  for (const timer of state.timers.values()) if (timer.dueAt <= at) ready.push(timer);
  ready.sort((a, b) => a.dueAt - b.dueAt || (a.timerId < b.timerId ? -1 : a.timerId > b.timerId ? 1 : 0));
  return ready.length > limit ? ready.slice(0, limit) : ready;
}

/** The `iga.timer.fired` envelope for a due timer, validated against the contract. */
export function timerFiredEvent(timer: PendingTimer, now: Date, context: FiringContext): TimerFiredEvent {
  const events = context.registry ?? registry;
  // Never earlier than due, even if a caller passes a clock that went backwards.
  const firedAt = new Date(Math.max(now.getTime(), timer.dueAt)).toISOString();
  return events.encode(
    TimerFired,
    {
      timerId: timer.timerId,
      kind: timer.kind,
      dueAt: new Date(timer.dueAt).toISOString(),
      firedAt,
      target: { ...timer.target },
    },
    {
      id: timerFiredEventId(timer.timerId, context.eventId),
      source: SCHEDULER_SOURCE,
      time: firedAt,
      subject: timer.subject,
      correlationid: timer.correlationId,
      causationid: timer.causationId,
      actor: { kind: 'system', id: 'scheduler' },
    },
  );
}
