import { Inject, Injectable, Logger } from '@nestjs/common';
import type { OnModuleDestroy } from '@nestjs/common';
import { ConnectorRunner, InMemoryIdempotencyStore, systemClock } from '@grantline/connector-sdk';
import type { Connector, SecretSink } from '@grantline/connector-sdk';
import { CONNECTOR_HOST_CONFIG } from '../connector-host.config';
import type { ConnectorHostConfig } from '../connector-host.config';

/** The connector the app built from its configuration. */
export const CONNECTOR = Symbol('CONNECTOR');

/**
 * Where issued secrets go: the host's sealed vault (one-time handoff, ADR 0026), so no connector or app keeps its
 * own; null without `CREDENTIAL_SEALING_KEY` (credential commands then fail terminally).
 */
export const CONNECTOR_SECRET_SINK = Symbol('CONNECTOR_SECRET_SINK');

/**
 * The connector behind the SDK's runner. The idempotency store is in memory: after a restart a replayed command
 * reaches the target once more, which the SDK requires to be harmless (its operations are check-then-change).
 */
@Injectable()
export class ConnectorRuntime implements OnModuleDestroy {
  readonly runner: ConnectorRunner;
  private readonly logger = new Logger('connector');

  constructor(
    @Inject(CONNECTOR_HOST_CONFIG) readonly config: ConnectorHostConfig,
    @Inject(CONNECTOR) readonly connector: Connector,
    @Inject(CONNECTOR_SECRET_SINK) secretSink: SecretSink | null,
  ) {
    // The runner refuses commands for another id than the connector's: a mismatch would fail every command.
    if (connector.id !== config.connectorId) {
      throw new Error(`the connector was built as ${connector.id}, but CONNECTOR_ID is ${config.connectorId}`);
    }
    this.runner = new ConnectorRunner({
      connector,
      idempotencyStore: new InMemoryIdempotencyStore(),
      ...(secretSink ? { secretSink } : {}),
      clock: systemClock,
      retry: {
        ...config.retry,
        onRetry: ({ attempt, delayMs, error }) => this.logger.warn({ msg: 'retrying a connector operation', attempt, delayMs, code: error.code }),
      },
    });
  }

  async onModuleDestroy(): Promise<void> {
    await this.connector.close?.();
  }
}
