import { Controller, Get, Inject, UseGuards } from '@nestjs/common';
import { BearerAuthGuard, RequireRoles } from '@grantline/http-edge';
import type { Clock } from '@grantline/decider';
import { CLOCK, RequireLoaded } from '@grantline/service-kit';
import { SCHEDULER_RUNTIME } from './timers.config';
import type { RebuildReport, SchedulerRuntime } from './scheduler.runtime';

export interface TimersStatus {
  readonly now: string;
  readonly rebuilt: boolean;
  readonly lastRebuild: RebuildReport | null;
  readonly pending: number;
  readonly fired: number;
  readonly nextDueAt: string | null;
}

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
