import { Module } from '@nestjs/common';
import { TimerAccessDenied } from '@grantline/contracts';
import { ApiAuthModule, ServiceKitModule, topicsOwnedBy } from '@grantline/service-kit';
import { TimersModule } from './timers/timers.module';

export const SERVICE_NAME = 'scheduler';
export const DEFAULT_PORT = 3105;

/**
 * The scheduler service. The kit brings configuration, JSON logging, MongoDB, Kafka (creating the topics
 * this service is the single writer of), the health endpoints and, like every service with an API, bearer
 * authentication with refusals recorded as `iga.timer.access-denied`; domain modules go beside it.
 */
@Module({
  imports: [
    ServiceKitModule.forRoot({ serviceName: SERVICE_NAME, defaultPort: DEFAULT_PORT, topics: topicsOwnedBy(SERVICE_NAME) }),
    ApiAuthModule.forRoot({ serviceName: SERVICE_NAME, deniedEvent: TimerAccessDenied }),
    TimersModule.forRoot(),
  ],
})
export class AppModule {}
