import { bootstrapService } from '@grantline/service-kit';
import { AppModule, DEFAULT_PORT, SERVICE_NAME } from './app.module';

// Transactional: the notifications and the consumed offset commit together.
// From the beginning: facts published before the notifier first ran are notified too; the replay of its own
// topic (and the ids the former writers used) keeps anything already asked for from being asked again.
// One active instance (ADR 0012): its state is rebuilt by replay; a second instance waits as a standby.
void bootstrapService(AppModule, { serviceName: SERVICE_NAME, defaultPort: DEFAULT_PORT, transactional: true, fromBeginning: true, lease: true });
