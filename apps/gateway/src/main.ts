import { JsonLogger, ServiceConfigError } from '@grantline/service-kit';
import { SERVICE_NAME, loadGatewayConfig } from './config/gateway-config';
import type { GatewayConfig } from './config/gateway-config';
import { startGateway } from './gateway';
import type { RunningGateway } from './gateway';

/** Like every service's main: a bad environment exits 1 naming each variable; SIGTERM/SIGINT close and exit 0. */
async function main(): Promise<void> {
  let config: GatewayConfig;
  try {
    config = loadGatewayConfig(process.env);
  } catch (error) {
    const logger = new JsonLogger({ serviceName: SERVICE_NAME, context: 'bootstrap' });
    if (error instanceof ServiceConfigError) logger.fatal(error.message, { problems: error.problems });
    else logger.fatal('cannot read configuration', error);
    process.exit(1);
  }
  const logger = new JsonLogger({ serviceName: config.serviceName, level: config.logLevel, context: 'bootstrap' });
  process.on('unhandledRejection', (reason) => logger.error('unhandled promise rejection', { reason: String(reason) }));
  let gateway: RunningGateway;
  try {
    gateway = await startGateway({ config });
  } catch (error) {
    logger.fatal('start-up failed', error);
    process.exit(1);
  }
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal, timeoutMs: config.shutdownTimeoutMs });
    setTimeout(() => {
      logger.error('graceful shutdown timed out, exiting', { timeoutMs: config.shutdownTimeoutMs });
      process.exit(1);
    }, config.shutdownTimeoutMs).unref();
    gateway.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error('shutdown failed', error);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

void main();
