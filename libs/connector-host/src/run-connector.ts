import type { SecretSink } from '@grantline/connector-sdk';
import { JsonLogger, bootstrapService, startService } from '@grantline/service-kit';
import type { RunningService, ServiceKitOptions, StartServiceOptions } from '@grantline/service-kit';
import type { ConnectorDefinition } from './connector-definition';
import type { ConnectorHostConfig } from './connector-host.config';
import { connectorAppModule } from './connector-host.module';

/** How every connector service consumes: the same for all of them, so none can get it subtly wrong. */
export function connectorServiceOptions(
  definition: Pick<ConnectorDefinition, 'serviceName' | 'defaultPort'>,
  config: ConnectorHostConfig,
): StartServiceOptions {
  return {
    serviceName: definition.serviceName,
    defaultPort: definition.defaultPort,
    // Per connector id: the instances of one id share its commands; two ids of one kind (postgres-billing, postgres-hr)
    // subscribe to different topics, so they must not share a group.
    groupId: `${definition.serviceName}-${config.connectorId}`,
    // A result is published together with the commit of the command it answers.
    transactional: true,
    fromBeginning: true,
    connectorIds: [config.connectorId],
  };
}

/**
 * A connector app's `main.ts`: a bad connector environment exits 1 with one JSON line naming every bad variable,
 * before anything connects; the rest is `bootstrapService` (kit configuration, signals, bounded stop).
 */
export async function runConnector<C extends ConnectorHostConfig>(
  definition: ConnectorDefinition<C>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<RunningService | undefined> {
  let config: C;
  try {
    config = definition.loadConfig(env);
  } catch (error) {
    new JsonLogger({ serviceName: definition.serviceName, context: 'bootstrap' }).fatal('cannot read configuration', error);
    process.exit(1);
  }
  return bootstrapService(connectorAppModule({ definition, config, env }), { ...connectorServiceOptions(definition, config), env });
}

export interface StartConnectorOptions {
  /** Both the connector's and the kit's variables; defaults to process.env. */
  readonly env?: NodeJS.ProcessEnv;
  readonly logDestination?: ServiceKitOptions['logDestination'];
  readonly secretSink?: SecretSink;
}

export interface RunningConnector<C extends ConnectorHostConfig = ConnectorHostConfig> extends RunningService {
  readonly connectorConfig: C;
}

/** The same service without process concerns (signals, exit), for specs; a bad environment throws. */
export async function startConnector<C extends ConnectorHostConfig>(
  definition: ConnectorDefinition<C>,
  options: StartConnectorOptions = {},
): Promise<RunningConnector<C>> {
  const env = options.env ?? process.env;
  const config = definition.loadConfig(env);
  const module = connectorAppModule({
    definition,
    config,
    env,
    ...(options.logDestination ? { logDestination: options.logDestination } : {}),
    ...(options.secretSink ? { secretSink: options.secretSink } : {}),
  });
  const running = await startService(module, connectorServiceOptions(definition, config));
  return { ...running, connectorConfig: config };
}
