import { Controller, Get, Inject, UseGuards } from '@nestjs/common';
import { z } from 'zod';
import { BearerAuthGuard, ProblemResponses, RequireRoles, ZodResponse } from '@grantline/http-edge';
import type { ViewOf } from '@grantline/http-edge';
import type { Clock } from '@grantline/decider';
import { CLOCK, RequireLoaded } from '@grantline/service-kit';
import { SCHEDULER_RUNTIME } from './timers.config';
import type { SchedulerRuntime } from './scheduler.runtime';

export const TimersStatusSchema = z.object({
  now: z.iso.datetime().describe("The scheduler's clock"),
  rebuilt: z.boolean(),
  lastRebuild: z
    .object({ events: z.number().int(), millis: z.number(), pending: z.number().int(), fired: z.number().int() })
    .nullable()
    .describe('The last rebuild of the timer book by replay'),
  pending: z.number().int(),
  fired: z.number().int(),
  nextDueAt: z.iso.datetime().nullable(),
});
export type TimersStatus = ViewOf<typeof TimersStatusSchema>;

/**
 * `GET /v1/timers/status`: what the scheduler holds, for operators (and tests waiting on a rebuild), security and
 * auditors. How many timers are pending and when the next one is due says something about the organisation's access,
 * so it is not public. Until the timers are rebuilt it answers 503 (problem+json naming the last error), never counts
 * from an empty book.
 */
@Controller('v1/timers')
@UseGuards(BearerAuthGuard, RequireLoaded(SCHEDULER_RUNTIME))
@RequireRoles('operator', 'security', 'auditor')
export class TimersController {
  constructor(
    @Inject(SCHEDULER_RUNTIME) private readonly runtime: SchedulerRuntime,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @Get('status')
  @ZodResponse(200, TimersStatusSchema, 'The timer book: pending and fired timers, the next one due')
  @ProblemResponses(401, 403, 503)
  status(): TimersStatus {
    return {
      now: this.clock.now().toISOString(),
      rebuilt: this.runtime.ready,
      lastRebuild: this.runtime.lastRebuild ?? null,
      pending: this.runtime.book.pendingCount,
      fired: this.runtime.book.firedCount,
      nextDueAt: this.runtime.book.nextDueAt()?.toISOString() ?? null,
    };
  }
}
