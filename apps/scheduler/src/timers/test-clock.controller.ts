import { BadRequestException, Body, Controller, Get, HttpCode, Inject, Post } from '@nestjs/common';
import { z } from 'zod';
import { isoDurationToMillis } from '@grantline/contracts';
import { CLOCK } from '../clock/clock.port';
import type { AdjustableClock } from '../clock/clock.port';
import { SCHEDULER_RUNTIME } from './timers.config';
import type { SchedulerRuntime } from './scheduler.runtime';

/** Either milliseconds or an ISO-8601 duration (`PT8H`, `P30D`), never both. */
export const AdvanceClockBodySchema = z
  .strictObject({
    ms: z.number().int().min(0).max(10 * 365 * 86_400_000).optional(),
    duration: z
      .string()
      .max(64)
      .refine((value) => isoDurationToMillis(value) !== undefined, { message: 'Invalid ISO-8601 duration, e.g. PT8H or P30D' })
      .optional(),
  })
  .refine((body) => (body.ms === undefined) !== (body.duration === undefined), { message: 'Give exactly one of ms or duration' });

export interface AdvanceClockResult {
  readonly now: string;
  readonly advancedMs: number;
  /** Timers fired by the tick run right after the move (acknowledged by Kafka). */
  readonly fired: number;
}

/**
 * Test-only (mounted when ENABLE_TEST_CLOCK=true, which requires CLOCK=offset): lets an end-to-end test move the
 * scheduler's time forward from outside the process. The answer comes after the firings that became due were
 * published, so a test can assert on downstream effects without guessing how long a tick takes.
 */
@Controller('v1/test-clock')
export class TestClockController {
  constructor(
    @Inject(CLOCK) private readonly clock: AdjustableClock,
    @Inject(SCHEDULER_RUNTIME) private readonly runtime: SchedulerRuntime,
  ) {}

  @Get()
  now(): { now: string } {
    return { now: this.clock.now().toISOString() };
  }

  @Post('advance')
  @HttpCode(200)
  async advance(@Body() body: unknown): Promise<AdvanceClockResult> {
    const parsed = AdvanceClockBodySchema.safeParse(body ?? {});
    if (!parsed.success) {
      throw new BadRequestException({
        type: 'about:blank',
        title: 'Invalid clock advance',
        status: 400,
        errors: parsed.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })),
      });
    }
    const advancedMs = parsed.data.ms ?? isoDurationToMillis(parsed.data.duration ?? '') ?? 0;
    const now = this.clock.advance(advancedMs);
    const fired = this.runtime.ready ? await this.runtime.ticker.drain() : 0;
    return { now: now.toISOString(), advancedMs, fired };
  }
}
