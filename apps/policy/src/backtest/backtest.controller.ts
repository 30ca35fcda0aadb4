import { Body, Controller, HttpCode, Inject, Post, UseGuards } from '@nestjs/common';
import { BearerAuthGuard, PROBLEMS, ProblemResponses, RequireRoles, ZodBody, ZodResponse, fieldErrorsOf, invalidInput } from '@grantline/http-edge';
import type { ViewOf } from '@grantline/http-edge';
import type { EventRegistry } from '@grantline/contracts';
import type { MessageBus } from '@grantline/messaging';
import { EVENT_REGISTRY, MESSAGE_BUS } from '@grantline/messaging-nest';
import { EvaluationLimitExceeded, renderBacktestReport } from '@grantline/policy-engine';
import { compileDraftBundle, draftLimitProblem } from '../simulation/draft-bundle';
import { BacktestResponseSchema, backtestBodySchema } from '../simulation/simulate.schema';
import { BACKTEST_CONFIG } from './backtest.config';
import type { BacktestConfig } from './backtest.config';
import { backtestLog } from './log-backtest';
import type { LogBacktestResult } from './log-backtest';

export type BacktestResponse = ViewOf<typeof BacktestResponseSchema>;

/**
 * Replays the decisions log through a candidate bundle; records nothing. Policy authors only: it reads every
 * recorded decision's input. Bounded: the log is streamed (BACKTEST_CONFIG caps the requests indexed and the time
 * spent), and the candidate is a draft, compiled and metered under the engine's draft limits.
 */
@Controller('v1/policy')
@UseGuards(BearerAuthGuard)
export class BacktestController {
  constructor(
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
    @Inject(EVENT_REGISTRY) private readonly registry: EventRegistry,
    @Inject(BACKTEST_CONFIG) private readonly config: BacktestConfig,
  ) {}

  @Post('backtest')
  @HttpCode(200)
  @RequireRoles('policy-author')
  @ZodBody(backtestBodySchema)
  @ZodResponse(200, BacktestResponseSchema, 'What the candidate bundle would change over the recorded decisions; nothing recorded')
  @ProblemResponses(400, 401, 403)
  async backtest(@Body() body: unknown): Promise<BacktestResponse> {
    const parsed = backtestBodySchema.safeParse(body);
    if (!parsed.success) throw invalidInput(fieldErrorsOf(parsed.error), PROBLEMS.invalidBody);
    const candidate = compileDraftBundle(parsed.data.files);
    let result: LogBacktestResult;
    try {
      result = await backtestLog(this.bus, this.registry, candidate, {
        maxRequests: this.config.maxRequests,
        maxMillis: this.config.maxMillis,
        ...(parsed.data.examplesPerKind !== undefined ? { examplesPerKind: parsed.data.examplesPerKind } : {}),
      });
    } catch (error) {
      throw error instanceof EvaluationLimitExceeded ? draftLimitProblem(error) : error;
    }
    return { ...result, rendered: renderBacktestReport(result.report, { color: false }) };
  }
}
