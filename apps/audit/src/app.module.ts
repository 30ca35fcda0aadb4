import { Module } from '@nestjs/common';
import { AuditAccessDenied } from '@grantline/contracts';
import { ApiAuthModule, ServiceKitModule, topicsOwnedBy } from '@grantline/service-kit';
import { AuditModule } from './audit.module';
import { TransparencyModule } from './transparency/transparency.module';

export const SERVICE_NAME = 'audit';
export const DEFAULT_PORT = 3106;

/**
 * The audit service. The kit brings configuration, JSON logging, MongoDB, Kafka (creating the topics this service
 * is the single writer of: `iga.audit.v1`, where its refused calls are recorded) and the health endpoints; the
 * ApiAuthModule authenticates every query and records each refusal as an `iga.audit.access-denied.v1` event; the
 * TransparencyModule publishes signed checkpoints of the log there too (`iga.audit.log-checkpointed.v1`).
 */
@Module({
  imports: [
    ServiceKitModule.forRoot({ serviceName: SERVICE_NAME, defaultPort: DEFAULT_PORT, topics: topicsOwnedBy(SERVICE_NAME) }),
    ApiAuthModule.forRoot({ serviceName: SERVICE_NAME, deniedEvent: AuditAccessDenied }),
    AuditModule,
    // Signs checkpoints of the log's Merkle trees; refuses to start without a valid Ed25519 key (ADR 0016).
    TransparencyModule.forRoot(),
  ],
})
export class AppModule {}
