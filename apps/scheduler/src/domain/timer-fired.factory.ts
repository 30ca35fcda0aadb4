import { TimerFired, registry } from '@grantline/contracts';
import type { EnvelopeOf, EventRegistry } from '@grantline/contracts';
import { EventFactory } from '@grantline/decider';
import type { EventIdOf } from '@grantline/decider';
import type { PendingTimer } from './scheduler.state';

export const SCHEDULER_SOURCE = 'grantline/scheduler';

export type TimerFiredEvent = EnvelopeOf<typeof TimerFired>;

/** What a firing takes from outside the domain: how event ids are derived, and the registry that validates it. */
export interface FiringContext {
  /** deterministicEventId in the service: the same parts give the same id. */
  readonly eventId: EventIdOf;
  /** The contracts catalogue when absent. */
  readonly registry?: EventRegistry;
}

/** The `iga.timer.fired` envelope of a due timer fired at `now`, validated against the contract. */
export function timerFirings(context: FiringContext): (timer: PendingTimer, now: Date) => TimerFiredEvent {
  const events = new EventFactory(context.registry ?? registry, { source: SCHEDULER_SOURCE, actor: { kind: 'system', id: 'scheduler' } }, context.eventId);
  return (timer, now) => {
    // Never earlier than due, even if a caller passes a clock that went backwards.
    const firedAt = new Date(Math.max(now.getTime(), timer.dueAt)).toISOString();
    return events.derive(
      TimerFired,
      { timerId: timer.timerId, kind: timer.kind, dueAt: new Date(timer.dueAt).toISOString(), firedAt, target: { ...timer.target } },
      {
        // The timer id alone: a restarted scheduler cannot fire the same timer twice under two ids.
        idParts: ['timer', timer.timerId],
        // What the timer kept of the event that armed it; the firing happens at its own time.
        cause: { id: timer.causationId, correlationid: timer.correlationId, time: firedAt },
        time: firedAt,
        subject: timer.subject,
        correlationId: timer.correlationId,
      },
    );
  };
}
