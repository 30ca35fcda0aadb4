import { Module } from '@nestjs/common';
import { EvidenceController } from './evidence.controller';
import { EvidenceService } from './evidence.service';

/** The compliance evidence route. Needs the messaging module (MESSAGE_BUS) and ApiAuthModule from the app. */
@Module({
  controllers: [EvidenceController],
  providers: [EvidenceService],
})
export class EvidenceModule {}
