import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { kafkaSaslFromEnv } from '../kafka/kafka-sasl';
import { connectorPrincipal } from './kafka-acl-plan';
import type { ConnectorDeployment } from './kafka-acl-plan';
import { provisionKafkaNamespace } from './provision-namespace';

/** The path of the local credentials file, exported by the test harness when its broker runs with SASL (ADR 0017). */
export const KAFKA_CREDENTIALS_ENV = 'GRANTLINE_KAFKA_CREDENTIALS';

/** What this reads of the harness's credentials file (libs/testing writes it): one password per principal. */
const credentialsSchema = z.object({ users: z.record(z.string(), z.string().min(16)) });

export interface KafkaNamespaceAccess {
  /** KAFKA_SASL_USERNAME / KAFKA_SASL_PASSWORD of a service (`connector-postgres` → its connector's principal). */
  envOf(serviceName: string): NodeJS.ProcessEnv;
  /** Removes the namespace's ACLs (the principals stay: they are the broker's, shared by every namespace). */
  dispose(): Promise<void>;
}

export interface KafkaNamespaceAccessOptions {
  readonly connectors: readonly ConnectorDeployment[];
  readonly namespace?: string;
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * A platform of services on the local broker (`npm start`, an e2e platform, a benchmark): undefined on a plaintext
 * broker (nothing to do). On a SASL broker (the harness exported GRANTLINE_KAFKA_CREDENTIALS and the admin login) it
 * provisions the namespace as a deployment is provisioned — the ACLs derived from the catalogue, the catalogue topics
 * created by the bootstrap admin — and gives each service its own principal, so the platform runs under the ACLs,
 * not as a super user.
 */
export async function kafkaNamespaceAccess(options: KafkaNamespaceAccessOptions): Promise<KafkaNamespaceAccess | undefined> {
  const env = options.env ?? process.env;
  const file = env[KAFKA_CREDENTIALS_ENV];
  if (file === undefined || file === '') return undefined;
  const parsed = credentialsSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  // the issues name fields, never values
  if (!parsed.success)
    throw new Error(`${file} (${KAFKA_CREDENTIALS_ENV}) has no valid "users" map: ${parsed.error.issues.map((i) => i.path.join('.')).join(', ')}`);
  const users = parsed.data.users;
  const admin = kafkaSaslFromEnv(env);
  if (admin === undefined) throw new Error(`${KAFKA_CREDENTIALS_ENV} is set but KAFKA_SASL_USERNAME / KAFKA_SASL_PASSWORD (the bootstrap admin) are not`);
  const brokers = (env['KAFKA_BROKERS'] ?? '')
    .split(',')
    .map((broker) => broker.trim())
    .filter(Boolean);
  if (brokers.length === 0) throw new Error('KAFKA_BROKERS is not set');
  const { connectors } = options;
  const provisioned = await provisionKafkaNamespace({
    brokers,
    admin,
    connectors,
    ...(options.namespace === undefined ? {} : { namespace: options.namespace }),
  });
  return {
    envOf(serviceName: string): NodeJS.ProcessEnv {
      const connector = connectors.find((c) => c.service === serviceName);
      const username = connector === undefined ? serviceName : connectorPrincipal(connector.id);
      const password = users[username];
      if (password === undefined) throw new Error(`no Kafka principal "${username}" in ${file}: restart the broker (npm run infra:down, then up) to create it`);
      return { KAFKA_SASL_USERNAME: username, KAFKA_SASL_PASSWORD: password };
    },
    async dispose(): Promise<void> {
      await provisioned.removeAcls();
    },
  };
}
