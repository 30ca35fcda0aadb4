import { Inject, Injectable, Logger } from '@nestjs/common';
import type { OnModuleDestroy } from '@nestjs/common';
import { ConnectorRunner, InMemoryIdempotencyStore, InMemorySecretSink, systemClock } from '@grantline/connector-sdk';
import { PostgresRoleConnector } from '@grantline/connector-postgres';
import { CONNECTOR_CONFIG } from './connector.config';
import type { ConnectorConfig } from './connector.config';

/**
 * The PostgreSQL connector behind the SDK's runner. The idempotency store is in memory: after a restart a
 * replayed command reaches PostgreSQL once more, which is harmless because GRANT/REVOKE are check-then-change.
 */
@Injectable()
export class ConnectorRuntime implements OnModuleDestroy {
  readonly connector: PostgresRoleConnector;
  readonly runner: ConnectorRunner;
  private readonly logger = new Logger('connector');

  constructor(@Inject(CONNECTOR_CONFIG) readonly config: ConnectorConfig) {
    this.connector = new PostgresRoleConnector({
      id: config.connectorId,
      connection: { connectionString: config.pgUrl, max: 4 },
      managedRoles: { prefix: config.managedRolePrefix },
      credentialRolePrefix: config.credentialRolePrefix,
      statementTimeoutMs: config.statementTimeoutMs,
    });
    this.runner = new ConnectorRunner({
      connector: this.connector,
      idempotencyStore: new InMemoryIdempotencyStore(),
      secretSink: new InMemorySecretSink(),
      clock: systemClock,
      retry: {
        ...config.retry,
        onRetry: ({ attempt, delayMs, error }) => this.logger.warn({ msg: 'retrying a connector operation', attempt, delayMs, code: error.code }),
      },
    });
  }

  async onModuleDestroy(): Promise<void> {
    await this.connector.close();
  }
}
