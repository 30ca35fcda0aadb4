import { Module } from '@nestjs/common';
import { DecisionsModule } from '../decisions/decisions.module';
import { SodScanController } from './sod-scan.controller';
import { SodScanService } from './sod-scan.service';

/** Detective separation of duties: scheduled and on-demand scans over the policy state (needs the decisions module's state and bundle). */
@Module({
  imports: [DecisionsModule],
  controllers: [SodScanController],
  providers: [SodScanService],
})
export class SodModule {}
