import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import type { Envelope } from '@grantline/contracts';
import { SCHEDULER_INPUT_TYPES } from '../domain/scheduler.evolve';
import { SCHEDULER_RUNTIME } from './timers.config';
import type { SchedulerRuntime } from './scheduler.runtime';

/**
 * Live input: grant and approval events, and firings (by this or another instance, read back so nothing fires
 * twice). The handler only folds the event into the timer book; firing is the ticker's job, so a handler never
 * waits on time, and a redelivered event is a no-op (the book remembers applied event ids).
 */
@Controller()
export class TimerEventsController {
  constructor(@Inject(SCHEDULER_RUNTIME) private readonly runtime: SchedulerRuntime) {}

  // One array pattern: Nest registers each type; the list is the domain's, so the two cannot drift apart.
  @EventPattern([...SCHEDULER_INPUT_TYPES])
  onEvent(@Payload() event: Envelope): void {
    this.runtime.ingest(event);
  }
}
