import { Module } from '@nestjs/common';
import { BacktestController } from '../backtest/backtest.controller';
import { DecisionsModule } from '../decisions/decisions.module';
import { SimulateController } from './simulate.controller';

/** The HTTP side: simulate one request, backtest a candidate bundle over the log. Neither records anything. */
@Module({ imports: [DecisionsModule], controllers: [SimulateController, BacktestController] })
export class SimulationModule {}
