import { bootstrapService, startConsumerGroups } from '@grantline/service-kit';
import type { BootstrapOptions } from '@grantline/service-kit';
import { AppModule, DEFAULT_PORT, SERVICE_NAME } from './app.module';

// openApi: false because the intake serves its own document at /docs, generated from the zod schemas that
// validate its requests (the kit's scan of decorators would show no request bodies).
const options: BootstrapOptions = { serviceName: SERVICE_NAME, defaultPort: DEFAULT_PORT, openApi: false };

// Then the ITSM inbound group (`intake.itsm`) beside the main one; the service is not ready until it runs, and a group
// that cannot start ends the process as a failed start-up does.
void bootstrapService(AppModule, options).then(async (service) => {
  if (service === undefined) return;
  try {
    await startConsumerGroups(service, options);
  } catch (error) {
    service.logger.fatal('start-up failed: a consumer group did not start', error);
    process.exit(1);
  }
});
