import { Module } from '@nestjs/common';
import { RequestAccessDenied } from '@grantline/contracts';
import { ApiAuthModule, ServiceKitModule, topicsOwnedBy } from '@grantline/service-kit';
import { IntakeModule } from './intake.module';

export const SERVICE_NAME = 'intake';
export const DEFAULT_PORT = 3101;

/**
 * The intake service. The kit brings configuration, JSON logging, MongoDB, Kafka (creating the topics
 * this service is the single writer of) and the health endpoints; the intake's domain goes beside it.
 */
@Module({
  imports: [
    ServiceKitModule.forRoot({ serviceName: SERVICE_NAME, defaultPort: DEFAULT_PORT, topics: topicsOwnedBy(SERVICE_NAME) }),
    ApiAuthModule.forRoot({ serviceName: SERVICE_NAME, deniedEvent: RequestAccessDenied }),
    IntakeModule,
  ],
})
export class AppModule {}
