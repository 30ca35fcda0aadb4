import { Module } from '@nestjs/common';
import { ServiceKitModule, topicsOwnedBy } from '@grantline/service-kit';
import { AuditModule } from './audit.module';

export const SERVICE_NAME = 'audit';
export const DEFAULT_PORT = 3106;

/**
 * The audit service. The kit brings configuration, JSON logging, MongoDB, Kafka (creating the topics
 * this service is the single writer of) and the health endpoints; domain modules go beside it.
 */
@Module({
  imports: [ServiceKitModule.forRoot({ serviceName: SERVICE_NAME, defaultPort: DEFAULT_PORT, topics: topicsOwnedBy(SERVICE_NAME) }), AuditModule],
})
export class AppModule {}
