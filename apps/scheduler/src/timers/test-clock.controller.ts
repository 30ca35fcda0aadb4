import { Body, Controller, Get, HttpCode, Inject, Post, UseGuards } from '@nestjs/common';
import { z } from 'zod';
import { isoDurationToMillis } from '@grantline/contracts';
import { BearerAuthGuard, PROBLEMS, ProblemResponses, RequireRoles, ZodBody, ZodResponse, fieldErrorsOf, invalidInput } from '@grantline/http-edge';
import type { ViewOf } from '@grantline/http-edge';
import type { AdjustableClock } from '@grantline/decider';
import { CLOCK, RequireLoaded } from '@grantline/service-kit';
import { SCHEDULER_RUNTIME } from './timers.config';
import type { SchedulerRuntime } from './scheduler.runtime';

/** Either milliseconds or an ISO-8601 duration (`PT8H`, `P30D`), never both. */
export const AdvanceClockBodySchema = z
  .strictObject({
    ms: z
      .number()
      .int()
      .min(0)
      .max(10 * 365 * 86_400_000)
      .optional(),
    duration: z
      .string()
      .max(64)
      .refine((value) => isoDurationToMillis(value) !== undefined, { message: 'Invalid ISO-8601 duration, e.g. PT8H or P30D' })
      .optional(),
  })
  .refine((body) => (body.ms === undefined) !== (body.duration === undefined), { message: 'Give exactly one of ms or duration' });

export const AdvanceClockResultSchema = z.object({
  now: z.iso.datetime(),
  advancedMs: z.number().int(),
  fired: z.number().int().describe('Timers fired by the tick run right after the move (acknowledged by Kafka)'),
});
export type AdvanceClockResult = ViewOf<typeof AdvanceClockResultSchema>;
const TestClockNowSchema = z.object({ now: z.iso.datetime() });

/**
 * Test-only: mounted only in the scheduler's test mode (SCHEDULER_TEST_MODE=true, which requires CLOCK=offset and
 * is refused with NODE_ENV=production), and then only for the operator role. Lets an end-to-end test move the
 * scheduler's time forward from outside the process. The answer comes after the firings that became due were
 * published, so a test can assert on downstream effects without guessing how long a tick takes.
 */
@Controller('v1/test-clock')
@UseGuards(BearerAuthGuard)
@RequireRoles('operator')
export class TestClockController {
  constructor(
    @Inject(CLOCK) private readonly clock: AdjustableClock,
    @Inject(SCHEDULER_RUNTIME) private readonly runtime: SchedulerRuntime,
  ) {}

  @Get()
  @ZodResponse(200, TestClockNowSchema, "The scheduler's clock")
  @ProblemResponses(401, 403)
  now(): ViewOf<typeof TestClockNowSchema> {
    return { now: this.clock.now().toISOString() };
  }

  /** 503 until the timers are rebuilt: the answer promises the firings that fell due, which needs the whole book. */
  @Post('advance')
  @HttpCode(200)
  @UseGuards(RequireLoaded(SCHEDULER_RUNTIME))
  @ZodBody(AdvanceClockBodySchema)
  @ZodResponse(200, AdvanceClockResultSchema, 'The clock moved; the timers that fell due were fired')
  @ProblemResponses(400, 401, 403, 503)
  async advance(@Body() body: unknown): Promise<AdvanceClockResult> {
    const parsed = AdvanceClockBodySchema.safeParse(body ?? {});
    if (!parsed.success) throw invalidInput(fieldErrorsOf(parsed.error), PROBLEMS.invalidBody);
    const advancedMs = parsed.data.ms ?? isoDurationToMillis(parsed.data.duration ?? '') ?? 0;
    const now = this.clock.advance(advancedMs);
    const fired = this.runtime.ready ? await this.runtime.ticker.drain() : 0;
    return { now: now.toISOString(), advancedMs, fired };
  }
}
