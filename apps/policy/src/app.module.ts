import { Module } from '@nestjs/common';
import { PolicyAccessDenied } from '@grantline/contracts';
import { ApiAuthModule, ServiceKitModule, topicsOwnedBy } from '@grantline/service-kit';
import { DecisionsModule } from './decisions/decisions.module';
import { SimulationModule } from './simulation/simulation.module';
import { SodModule } from './sod/sod.module';

export const SERVICE_NAME = 'policy';
export const DEFAULT_PORT = 3102;

/**
 * The policy service. The kit brings configuration, JSON logging, MongoDB, Kafka (creating the topics
 * this service is the single writer of), the health endpoints and, like every service with an API, bearer
 * authentication with refusals recorded as `iga.policy.access-denied`; decisions, simulation and the detective SoD scan go beside it.
 */
@Module({
  imports: [
    ServiceKitModule.forRoot({ serviceName: SERVICE_NAME, defaultPort: DEFAULT_PORT, topics: topicsOwnedBy(SERVICE_NAME) }),
    ApiAuthModule.forRoot({ serviceName: SERVICE_NAME, deniedEvent: PolicyAccessDenied }),
    DecisionsModule,
    SimulationModule,
    SodModule,
  ],
})
export class AppModule {}
