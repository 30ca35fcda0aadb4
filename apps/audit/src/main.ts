import { bootstrapService } from '@grantline/service-kit';
import { AppModule, DEFAULT_PORT, SERVICE_NAME } from './app.module';

// A projection must not skip an event because its database is briefly down: the runner retries every handler
// error until it heals (ADR 0009); the partition waits and order is kept.
void bootstrapService(AppModule, {
  serviceName: SERVICE_NAME,
  defaultPort: DEFAULT_PORT,
  retry: { maxAttempts: Number.MAX_SAFE_INTEGER, initialDelayMs: 200, maxDelayMs: 30_000 },
  // One active instance (ADR 0012): the catch-up and the projections assume they see every partition.
  lease: true,
});
