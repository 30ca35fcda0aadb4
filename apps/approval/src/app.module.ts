import { Module } from '@nestjs/common';
import { ServiceKitModule, topicsOwnedBy } from '@grantline/service-kit';
import { ApprovalsModule } from './approvals/approvals.module';

export const SERVICE_NAME = 'approval';
export const DEFAULT_PORT = 3103;

/**
 * The approval service. The kit brings configuration, JSON logging, MongoDB, Kafka (creating the topics
 * this service is the single writer of) and the health endpoints; approvals go beside it.
 */
@Module({
  imports: [
    ServiceKitModule.forRoot({ serviceName: SERVICE_NAME, defaultPort: DEFAULT_PORT, topics: topicsOwnedBy(SERVICE_NAME) }),
    ApprovalsModule.forRoot(),
  ],
})
export class AppModule {}
