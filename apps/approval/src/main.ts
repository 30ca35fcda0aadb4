import { bootstrapService } from '@grantline/service-kit';
import { AppModule, DEFAULT_PORT, SERVICE_NAME } from './app.module';

// One active instance (ADR 0012): its state is rebuilt by replay; a second instance waits as a standby.
void bootstrapService(AppModule, { serviceName: SERVICE_NAME, defaultPort: DEFAULT_PORT, lease: true });
