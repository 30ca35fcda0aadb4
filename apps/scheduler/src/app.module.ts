import { Module } from '@nestjs/common';
import { ServiceKitModule, topicsOwnedBy } from '@grantline/service-kit';
import { TimersModule } from './timers/timers.module';

export const SERVICE_NAME = 'scheduler';
export const DEFAULT_PORT = 3105;

/**
 * The scheduler service. The kit brings configuration, JSON logging, MongoDB, Kafka (creating the topics
 * this service is the single writer of) and the health endpoints; domain modules go beside it.
 */
@Module({
  imports: [ServiceKitModule.forRoot({ serviceName: SERVICE_NAME, defaultPort: DEFAULT_PORT, topics: topicsOwnedBy(SERVICE_NAME) }), TimersModule.forRoot()],
})
export class AppModule {}
