import type { Provider, Type } from '@nestjs/common';
import type { Connection } from 'mongoose';
import type { Connector } from '@grantline/connector-sdk';
import type { ConnectorHostConfig } from './connector-host.config';

/** What the host lends a connector it builds: the service's own MongoDB database, for state it must keep. */
export interface ConnectorDependencies {
  readonly mongo: Connection;
}

/** What a connector app tells the host; everything else (topics, group, health, results) is the host's. */
export interface ConnectorDefinition<C extends ConnectorHostConfig = ConnectorHostConfig> {
  /** Logs, Kafka client id, default MongoDB database, and the consumer group `<serviceName>-<connectorId>`. */
  readonly serviceName: string;
  /** HTTP port (health, /docs) when PORT is not set. */
  readonly defaultPort: number;
  /** Reads the environment; throws naming every bad variable (see `connectorConfigLoader`). */
  readonly loadConfig: (env: NodeJS.ProcessEnv) => C;
  /** The connector, named `config.connectorId`; the host closes it when the service stops. */
  readonly create: (config: C, dependencies: ConnectorDependencies) => Connector | Promise<Connector>;
  /** The connector's own HTTP routes (e.g. a credential issuer's public keys); they may inject `CONNECTOR`. */
  readonly controllers?: readonly Type<unknown>[];
  /** Providers those controllers need. */
  readonly providers?: readonly Provider[];
}

/** Only for inference: the config type flows from `loadConfig` into `create`. */
export function defineConnector<C extends ConnectorHostConfig>(definition: ConnectorDefinition<C>): ConnectorDefinition<C> {
  return definition;
}
