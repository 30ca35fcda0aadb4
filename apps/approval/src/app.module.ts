import { Module } from '@nestjs/common';
import { ApprovalAccessDenied } from '@grantline/contracts';
import { ApiAuthModule, ServiceKitModule, topicsOwnedBy } from '@grantline/service-kit';
import { ApprovalsModule } from './approvals/approvals.module';

export const SERVICE_NAME = 'approval';
export const DEFAULT_PORT = 3103;

/**
 * The approval service. The kit brings configuration, JSON logging, MongoDB, Kafka (creating the topics
 * this service is the single writer of), the health endpoints and, like every service with an API, bearer
 * authentication with refusals recorded as `iga.approval.access-denied`; approvals go beside it.
 */
@Module({
  imports: [
    ServiceKitModule.forRoot({ serviceName: SERVICE_NAME, defaultPort: DEFAULT_PORT, topics: topicsOwnedBy(SERVICE_NAME) }),
    ApiAuthModule.forRoot({ serviceName: SERVICE_NAME, deniedEvent: ApprovalAccessDenied }),
    ApprovalsModule.forRoot(),
  ],
})
export class AppModule {}
