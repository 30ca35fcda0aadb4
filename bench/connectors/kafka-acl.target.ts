import { randomBytes } from 'node:crypto';
import { idempotencyKeyOf } from '@grantline/connector-sdk';
// eslint-disable-next-line @nx/enforce-module-boundaries -- the bench measures the connector itself against the real broker
import { KafkaAclConnector } from '@grantline/connector-kafka-acl';
import { registry } from '@grantline/contracts';
import { KafkaAclAdmin, KafkaMessageBus, kafkaSaslFromEnv, silentLogger } from '@grantline/messaging';
import { expectChanged, timed } from './connector-latency';
import type { LatencyTarget } from './connector-latency';

/**
 * The Kafka ACL connector against the real local broker (SASL/SCRAM + StandardAuthorizer). Baseline: one bare
 * DescribeAcls through the same ACL admin port. A grant is check (describe) → topic exists → create; a revoke is
 * check → delete; each on a fresh service account.
 */
export async function kafkaAclTarget(): Promise<LatencyTarget> {
  const brokers = (process.env['KAFKA_BROKERS'] ?? '').split(',').filter(Boolean);
  const admin = kafkaSaslFromEnv();
  if (brokers.length === 0 || admin === undefined)
    throw new Error('the Kafka ACL bench needs the SASL broker (KAFKA_BROKERS, KAFKA_SASL_*) after infrastructure setup');
  const run = randomBytes(3).toString('hex');
  const namespace = `jitbench-${run}`;
  const topic = `${namespace}.orders`;
  const bus = new KafkaMessageBus({ clientId: `bench-kafka-acl-${run}`, brokers, registry, logger: silentLogger, namespace });
  const port = new KafkaAclAdmin({ clientId: `bench-kafka-acl-${run}`, brokers, sasl: admin });
  const connector = new KafkaAclConnector({ id: 'kafka-acl', admin: port, managedResourcePrefix: `${namespace}.`, managedPrincipalPrefix: 'User:svc-' });
  const accounts: string[] = [];
  await bus.ensureTopics([{ topic: 'orders', partitions: 1 }]);
  return {
    name: 'kafka-acl',
    baseline: 'one DescribeAcls',
    steps: { grant: 'grant (check, topic, create)', noopGrant: 'grant again (check only, no-op)', revoke: 'revoke (check, delete)' },
    async round(index) {
      const account = `svc-bench-${run}-${index + 5}`;
      accounts.push(account);
      const op = (operation: 'provision' | 'deprovision') => ({
        grantId: `g-${account}`,
        operation,
        idempotencyKey: idempotencyKeyOf(`g-${account}`, operation),
        account,
        entitlementRef: `topic:${topic}:write`,
      });
      return {
        baseline: await timed(() => port.describeAcls({ principal: `User:${account}` })),
        grant: await timed(async () => expectChanged(await connector.provision(op('provision')), true, 'a grant on a fresh account')),
        noopGrant: await timed(async () => expectChanged(await connector.provision(op('provision')), false, 'a repeated grant')),
        revoke: await timed(async () => expectChanged(await connector.deprovision(op('deprovision')), true, 'a revoke of a live grant')),
      };
    },
    async close() {
      for (const account of accounts) {
        const left = await port.describeAcls({ principal: `User:${account}` }).catch(() => []);
        if (left.length > 0) await port.deleteAcls(left).catch(() => undefined);
      }
      await connector.close();
      await bus.deleteNamespace().catch(() => undefined);
      await bus.disconnect();
    },
  };
}
