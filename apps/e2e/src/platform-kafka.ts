// Each e2e platform on a broker with ACLs (the default, docs/adr/0017): its namespace is provisioned like a deployment
// and every service runs as its own principal, so the scenarios exercise the ACLs, not a super user. On a plaintext
// broker there is nothing to do.
import { kafkaNamespaceAccess } from '@grantline/messaging';
import type { ConnectorDeployment, KafkaNamespaceAccess } from '@grantline/messaging';

/** The connector every platform runs: apps/connector-postgres with its default id. */
const CONNECTORS: readonly ConnectorDeployment[] = [{ id: 'postgres', service: 'connector-postgres' }];

/** Connectors a scenario starts only when it asks for their service (their topics and ACLs cost the others nothing). */
const OPTIONAL_CONNECTORS: readonly ConnectorDeployment[] = [
  { id: 'kafka-acl', service: 'connector-kafka-acl' },
  { id: 'ldap', service: 'connector-ldap' },
  { id: 'credentials', service: 'connector-credentials' },
  { id: 'scim', service: 'connector-scim' },
];

export type PlatformKafkaAccess = KafkaNamespaceAccess;

export function platformKafkaAccess(
  namespace: string,
  env: NodeJS.ProcessEnv = process.env,
  services: readonly string[] = [],
): Promise<PlatformKafkaAccess | undefined> {
  const optional = OPTIONAL_CONNECTORS.filter((connector) => services.includes(connector.service));
  return kafkaNamespaceAccess({ namespace, env, connectors: [...CONNECTORS, ...optional] });
}
