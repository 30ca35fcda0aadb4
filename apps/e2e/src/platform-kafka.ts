// Each e2e platform on a broker with ACLs (the default, docs/adr/0017): its namespace is provisioned like a deployment
// and every service runs as its own principal, so the scenarios exercise the ACLs, not a super user. On a plaintext
// broker there is nothing to do.
import { kafkaNamespaceAccess } from '@grantline/messaging';
import type { ConnectorDeployment, KafkaNamespaceAccess } from '@grantline/messaging';

/** The connector the platform runs: apps/connector-postgres with its default id. */
const CONNECTORS: readonly ConnectorDeployment[] = [{ id: 'postgres', service: 'connector-postgres' }];

export type PlatformKafkaAccess = KafkaNamespaceAccess;

export function platformKafkaAccess(namespace: string, env: NodeJS.ProcessEnv = process.env): Promise<PlatformKafkaAccess | undefined> {
  return kafkaNamespaceAccess({ namespace, env, connectors: CONNECTORS });
}
