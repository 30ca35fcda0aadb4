import type { Connector } from '@grantline/connector-sdk';
import type { ConnectorHostConfig } from './connector-host.config';

/** What a connector app tells the host; everything else (topics, group, health, results) is the host's. */
export interface ConnectorDefinition<C extends ConnectorHostConfig = ConnectorHostConfig> {
  /** Logs, Kafka client id, default MongoDB database, and the consumer group `<serviceName>-<connectorId>`. */
  readonly serviceName: string;
  /** HTTP port (health, /docs) when PORT is not set. */
  readonly defaultPort: number;
  /** Reads the environment; throws naming every bad variable (see `connectorConfigLoader`). */
  readonly loadConfig: (env: NodeJS.ProcessEnv) => C;
  /** The connector, named `config.connectorId`; the host closes it when the service stops. */
  readonly create: (config: C) => Connector;
}

/** Only for inference: the config type flows from `loadConfig` into `create`. */
export function defineConnector<C extends ConnectorHostConfig>(definition: ConnectorDefinition<C>): ConnectorDefinition<C> {
  return definition;
}
