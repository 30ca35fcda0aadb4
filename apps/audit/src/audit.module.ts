import { Module } from '@nestjs/common';
import { getConnectionToken } from '@nestjs/mongoose';
import type { Connection } from 'mongoose';
import { AuditAccess } from './authorization/audit-access.service';
import { EvidenceModule } from './evidence/evidence.module';
import { AuditEventsHandler } from './handlers/audit-events.handler';
import { AUDIT_PROJECTIONS } from './projections/audit.projections';
import { ReadModelStore } from './persistence/read-model.store';
import { AuditCatchUp } from './projector/audit-catch-up.service';
import { AuditProjector } from './projector/audit.projector';
import { AuditQueryController } from './query/audit-query.controller';
import { AuditQueryService } from './query/audit-query.service';
import { CampaignAuditController } from './query/campaign-audit.controller';

/**
 * Projections, their handlers, the catch-up replay and the query API. Needs a mongoose connection and the
 * messaging module (MESSAGE_BUS, EVENT_REGISTRY) from the app (the service kit provides both), and the kit's
 * ApiAuthModule (BearerAuthGuard, the recording of refusals) imported beside it. The compliance evidence route
 * (EvidenceModule) replays the log itself rather than reading these projections.
 */
@Module({
  imports: [EvidenceModule],
  controllers: [AuditEventsHandler, AuditQueryController, CampaignAuditController],
  providers: [
    { provide: ReadModelStore, useFactory: (connection: Connection) => new ReadModelStore(connection, AUDIT_PROJECTIONS), inject: [getConnectionToken()] },
    { provide: AuditProjector, useFactory: (store: ReadModelStore) => new AuditProjector(store), inject: [ReadModelStore] },
    AuditCatchUp,
    AuditQueryService,
    AuditAccess,
  ],
  exports: [ReadModelStore, AuditProjector, AuditCatchUp],
})
export class AuditModule {}
