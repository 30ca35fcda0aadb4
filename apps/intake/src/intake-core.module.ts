import { Module } from '@nestjs/common';
import { getConnectionToken } from '@nestjs/mongoose';
import type { Connection } from 'mongoose';
import { CLOCK, clockProvider } from '@grantline/service-kit';
import { INTAKE_CONFIG, loadIntakeConfig } from './config/intake-config';
import type { IntakeConfig } from './config/intake-config';
import { IntakePublisher } from './publishing/intake-publisher';
import { IdentityDirectory } from './status/request-status.store';

/**
 * What the intake's HTTP API and its SCIM endpoints share: one configuration, one publisher and one identity
 * directory — one instance each, so every identity write goes through the same per-identity lock — and the one clock
 * every business time is read from (a spec pins it by overriding CLOCK).
 */
@Module({
  providers: [
    { provide: INTAKE_CONFIG, useFactory: (): IntakeConfig => loadIntakeConfig() },
    clockProvider(),
    IntakePublisher,
    { provide: IdentityDirectory, useFactory: (connection: Connection) => new IdentityDirectory(connection), inject: [getConnectionToken()] },
  ],
  exports: [INTAKE_CONFIG, CLOCK, IntakePublisher, IdentityDirectory],
})
export class IntakeCoreModule {}
