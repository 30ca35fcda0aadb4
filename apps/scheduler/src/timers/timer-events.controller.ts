import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import type { Envelope } from '@grantline/contracts';
import { SCHEDULER_INPUT_TYPES } from '../domain/scheduler.evolve';
import { SCHEDULER_RUNTIME } from './timers.config';
import type { SchedulerRuntime } from './scheduler.runtime';

/**
 * Live input: grant and approval events, and firings (by this or another instance, read back so nothing fires
 * twice). The handler only folds the event into the timer book; firing is the ticker's job, so a handler never
 * waits on time, and a redelivered event is a no-op (the book remembers applied event ids). It does wait for the
 * rebuild: an offset is committed only once the book it was folded into holds the whole log.
 */
@Controller()
export class TimerEventsController {
  constructor(@Inject(SCHEDULER_RUNTIME) private readonly runtime: SchedulerRuntime) {}

  // One array pattern: Nest registers each type; the list is the domain's, so the two cannot drift apart.
  @EventPattern([...SCHEDULER_INPUT_TYPES])
  async onEvent(@Payload() event: Envelope): Promise<void> {
    await this.runtime.whenRebuilt();
    this.runtime.ingest(event);
  }
}
