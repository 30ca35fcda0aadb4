import { bootstrapService } from '@grantline/service-kit';
import { AppModule, DEFAULT_PORT, SERVICE_NAME } from './app.module';

void bootstrapService(AppModule, { serviceName: SERVICE_NAME, defaultPort: DEFAULT_PORT });
