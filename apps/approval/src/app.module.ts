import { Module } from '@nestjs/common';
import { TOPICS } from '@grantline/contracts';
import { ServiceKitModule, topicsOwnedBy } from '@grantline/service-kit';
import { ApprovalsModule } from './approvals/approvals.module';

export const SERVICE_NAME = 'approval';
export const DEFAULT_PORT = 3103;

/**
 * The approval service. The kit brings configuration, JSON logging, MongoDB, Kafka (creating the topics
 * this service is the single writer of) and the health endpoints; approvals go beside it.
 *
 * The notifications topic is ensured too: break-glass asks for a notification there (see README: the
 * catalogue names a `notifier` as its owner, which does not exist yet).
 */
@Module({
  imports: [
    ServiceKitModule.forRoot({ serviceName: SERVICE_NAME, defaultPort: DEFAULT_PORT, topics: [...topicsOwnedBy(SERVICE_NAME), TOPICS.notifications] }),
    ApprovalsModule.forRoot(),
  ],
})
export class AppModule {}
