import { Module } from '@nestjs/common';
import { ServiceKitModule, topicsOwnedBy } from '@grantline/service-kit';
import { NotificationsModule } from './notifications';

export const SERVICE_NAME = 'notifier';
export const DEFAULT_PORT = 3108;

/**
 * The notifier service: the single writer of the notifications topic. The kit brings configuration, JSON
 * logging, MongoDB, Kafka (creating the topics this service owns) and the health endpoints.
 */
@Module({
  imports: [
    ServiceKitModule.forRoot({ serviceName: SERVICE_NAME, defaultPort: DEFAULT_PORT, topics: topicsOwnedBy(SERVICE_NAME) }),
    NotificationsModule.forRoot(),
  ],
})
export class AppModule {}
