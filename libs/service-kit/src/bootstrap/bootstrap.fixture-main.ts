// A minimal service main for the bootstrap specs: they run it as a real process to observe exit
// codes and signal handling, which no in-process test can.
import { Module } from '@nestjs/common';
import { ServiceKitModule } from '../service-kit.module';
import { bootstrapService } from './bootstrap-service';

@Module({ imports: [ServiceKitModule.forRoot({ serviceName: 'bootstrap-fixture' })] })
class FixtureModule {}

void bootstrapService(FixtureModule, { serviceName: 'bootstrap-fixture' });
