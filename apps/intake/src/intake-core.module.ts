import { Module } from '@nestjs/common';
import { getConnectionToken } from '@nestjs/mongoose';
import type { Connection } from 'mongoose';
import { INTAKE_CONFIG, loadIntakeConfig } from './config/intake-config';
import type { IntakeConfig } from './config/intake-config';
import { IntakePublisher } from './publishing/intake-publisher';
import { IdentityDirectory } from './status/request-status.store';

/**
 * What the intake's HTTP API and its SCIM endpoints share: one configuration, one publisher and one identity
 * directory — one instance each, so every identity write goes through the same per-identity lock.
 */
@Module({
  providers: [
    { provide: INTAKE_CONFIG, useFactory: (): IntakeConfig => loadIntakeConfig() },
    IntakePublisher,
    { provide: IdentityDirectory, useFactory: (connection: Connection) => new IdentityDirectory(connection), inject: [getConnectionToken()] },
  ],
  exports: [INTAKE_CONFIG, IntakePublisher, IdentityDirectory],
})
export class IntakeCoreModule {}
