import { bootstrapService } from '@grantline/service-kit';
import { AppModule, DEFAULT_PORT, SERVICE_NAME } from './app.module';

// openApi: false because the intake serves its own document at /docs, generated from the zod schemas that
// validate its requests (the kit's scan of decorators would show no request bodies).
void bootstrapService(AppModule, { serviceName: SERVICE_NAME, defaultPort: DEFAULT_PORT, openApi: false });
