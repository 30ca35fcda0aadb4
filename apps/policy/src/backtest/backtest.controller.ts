import { Body, Controller, HttpCode, Inject, Post, UseFilters } from '@nestjs/common';
import { PROBLEMS, ProblemDetailsFilter, fieldErrorsOf, invalidInput } from '@grantline/http-edge';
import type { EventRegistry } from '@grantline/contracts';
import type { MessageBus } from '@grantline/messaging';
import { EVENT_REGISTRY, MESSAGE_BUS } from '@grantline/messaging-nest';
import { renderBacktestReport } from '@grantline/policy-engine';
import { compileDraftBundle } from '../simulation/draft-bundle';
import { backtestBodySchema } from '../simulation/simulate.schema';
import { backtestLog } from './log-backtest';
import type { LogBacktestResult } from './log-backtest';

export interface BacktestResponse extends LogBacktestResult {
  /** The same report as the terminal command prints, without colour. */
  readonly rendered: string;
}

/** Replays the decisions log through a candidate bundle; records nothing. */
@Controller('v1/policy')
@UseFilters(ProblemDetailsFilter)
export class BacktestController {
  constructor(
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
    @Inject(EVENT_REGISTRY) private readonly registry: EventRegistry,
  ) {}

  @Post('backtest')
  @HttpCode(200)
  async backtest(@Body() body: unknown): Promise<BacktestResponse> {
    const parsed = backtestBodySchema.safeParse(body);
    if (!parsed.success) throw invalidInput(fieldErrorsOf(parsed.error), PROBLEMS.invalidBody);
    const candidate = compileDraftBundle(parsed.data.files);
    const result = await backtestLog(this.bus, this.registry, candidate, {
      ...(parsed.data.examplesPerKind !== undefined ? { examplesPerKind: parsed.data.examplesPerKind } : {}),
    });
    return { ...result, rendered: renderBacktestReport(result.report, { color: false }) };
  }
}
