import { bootstrapService } from '@grantline/service-kit';
import { AppModule, DEFAULT_PORT, SERVICE_NAME } from './app.module';

// A projection must not skip an event because its database is briefly down: keep retrying
// (the partition waits, order is kept) instead of dead-lettering after a few attempts.
void bootstrapService(AppModule, {
  serviceName: SERVICE_NAME,
  defaultPort: DEFAULT_PORT,
  retry: { maxAttempts: Number.MAX_SAFE_INTEGER, initialDelayMs: 200, maxDelayMs: 30_000 },
});
