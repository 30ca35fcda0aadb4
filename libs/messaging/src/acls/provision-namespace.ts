import { TOPICS, connectorCommandsTopic, connectorResultsTopic, registry } from '@grantline/contracts';
import { KafkaAclAdmin } from '../kafka/kafka-acls';
import { KafkaMessageBus } from '../kafka/kafka-bus';
import type { KafkaSaslCredentials } from '../kafka/kafka-sasl';
import { silentLogger } from '../logger';
import type { MessagingLogger } from '../logger';
import { isSharedAcrossNamespaces, kafkaAclPlan } from './kafka-acl-plan';
import type { ConnectorDeployment, KafkaAclPlan } from './kafka-acl-plan';

export interface ProvisionKafkaNamespaceOptions {
  readonly brokers: readonly string[];
  /** The bootstrap admin (a super user). */
  readonly admin: KafkaSaslCredentials;
  readonly namespace?: string;
  readonly connectors?: readonly ConnectorDeployment[];
  readonly logger?: MessagingLogger;
}

export interface ProvisionedKafkaNamespace {
  readonly plan: KafkaAclPlan;
  /** ACLs this call created (0 when the namespace was provisioned before). */
  readonly aclsCreated: number;
  /** The catalogue topics of the deployment (logical names), all present now. */
  readonly topics: readonly string[];
  /** Deletes the namespace's ACLs (a finished test platform); the principals stay, they serve every namespace. */
  removeAcls(): Promise<number>;
}

/** Every catalogue topic of a deployment: the fixed ones and each connector's commands and results. */
export function deploymentTopics(connectors: readonly ConnectorDeployment[]): string[] {
  return [...Object.values(TOPICS), ...connectors.flatMap((c) => [connectorCommandsTopic(c.id), connectorResultsTopic(c.id)])];
}

/**
 * The provisioning step of a deployment on a broker with ACLs (docs/adr/0017), as the bootstrap admin: applies the
 * ACLs derived from the catalogue (on the namespace's names) and creates every catalogue topic with the catalogue's
 * settings, so no service waits for an owner that is not running. Idempotent: a second call creates nothing.
 */
export async function provisionKafkaNamespace(options: ProvisionKafkaNamespaceOptions): Promise<ProvisionedKafkaNamespace> {
  const connectors = options.connectors ?? [];
  const namespace = options.namespace === undefined ? {} : { namespace: options.namespace };
  const plan = kafkaAclPlan({ connectors, ...namespace });
  const topics = deploymentTopics(connectors);
  const acls = new KafkaAclAdmin({ clientId: 'grantline-provisioning', brokers: options.brokers, sasl: options.admin });
  const bus = new KafkaMessageBus({
    clientId: 'grantline-provisioning',
    brokers: options.brokers,
    registry,
    logger: options.logger ?? silentLogger,
    sasl: options.admin,
    ...namespace,
  });
  let aclsCreated: number;
  try {
    aclsCreated = await acls.apply(plan.bindings);
    await bus.ensureTopics(topics.map((topic) => ({ topic })));
  } finally {
    await Promise.all([acls.disconnect(), bus.disconnect()]);
  }
  return {
    plan,
    aclsCreated,
    topics,
    async removeAcls(): Promise<number> {
      const admin = new KafkaAclAdmin({ clientId: 'grantline-provisioning', brokers: options.brokers, sasl: options.admin });
      try {
        return await admin.remove(plan.bindings.filter((binding) => !isSharedAcrossNamespaces(binding, options.namespace)));
      } finally {
        await admin.disconnect();
      }
    },
  };
}
