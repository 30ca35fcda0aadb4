import { Module } from '@nestjs/common';
import type { DynamicModule } from '@nestjs/common';
import { AUDIT_SIGNING, loadAuditSigning } from './audit-signing.config';
import type { AuditSigning } from './audit-signing.config';
import { LogCheckpointer } from './log-checkpointer.service';
import { LogProofsController } from './log-proofs.controller';
import { LogProofsService } from './log-proofs.service';

/**
 * The log's tamper evidence (ADR 0016): the checkpointer and the proof routes. Needs the messaging module
 * (MESSAGE_BUS, EVENT_REGISTRY) and ApiAuthModule from the app. Without `signing` the key is read from the
 * environment (AUDIT_SIGNING_KEY_FILE...) when the app is created, so a missing or bad key stops the start.
 */
@Module({})
export class TransparencyModule {
  static forRoot(options: { readonly signing?: AuditSigning; readonly env?: NodeJS.ProcessEnv } = {}): DynamicModule {
    return {
      module: TransparencyModule,
      controllers: [LogProofsController],
      providers: [
        options.signing !== undefined
          ? { provide: AUDIT_SIGNING, useValue: options.signing }
          : { provide: AUDIT_SIGNING, useFactory: () => loadAuditSigning(options.env ?? process.env) },
        LogCheckpointer,
        LogProofsService,
      ],
      exports: [LogCheckpointer, AUDIT_SIGNING],
    };
  }
}
