import { Module } from '@nestjs/common';
import { BACKTEST_CONFIG, loadBacktestConfig } from '../backtest/backtest.config';
import { BacktestController } from '../backtest/backtest.controller';
import { DecisionsModule } from '../decisions/decisions.module';
import { SimulateController } from './simulate.controller';

/**
 * The HTTP side: simulate one request, backtest a candidate bundle over the log. Neither records anything. Needs
 * the kit's ApiAuthModule (the guard and recorded refusals), which the app imports beside it.
 */
@Module({
  imports: [DecisionsModule],
  controllers: [SimulateController, BacktestController],
  providers: [{ provide: BACKTEST_CONFIG, useFactory: () => loadBacktestConfig() }],
})
export class SimulationModule {}
