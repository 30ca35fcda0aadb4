import { Module } from '@nestjs/common';
import { ApprovalAccessDenied } from '@grantline/contracts';
import { ApiAuthModule, ServiceKitModule, topicsOwnedBy } from '@grantline/service-kit';
import { ApprovalsModule } from './approvals/approvals.module';
import { CertificationModule } from './certification/certification.module';

export const SERVICE_NAME = 'approval';
export const DEFAULT_PORT = 3103;

/**
 * The approval service. The kit brings configuration, JSON logging, MongoDB, Kafka (creating the topics
 * this service is the single writer of), the health endpoints and, like every service with an API, bearer
 * authentication with refusals recorded as `iga.approval.access-denied`; approvals and certification
 * campaigns go beside it.
 */
// One instance, imported by the certification module as well (it reads the approval state).
const approvals = ApprovalsModule.forRoot();

@Module({
  imports: [
    ServiceKitModule.forRoot({ serviceName: SERVICE_NAME, defaultPort: DEFAULT_PORT, topics: topicsOwnedBy(SERVICE_NAME) }),
    ApiAuthModule.forRoot({ serviceName: SERVICE_NAME, deniedEvent: ApprovalAccessDenied }),
    approvals,
    CertificationModule.forRoot({ approvals }),
  ],
})
export class AppModule {}
