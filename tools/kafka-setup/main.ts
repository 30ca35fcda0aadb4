// A deployment's Kafka set-up, as a one-shot step before the services start (docker-compose.yml's kafka-setup, the
// Helm chart's kafka-setup Job): as the bootstrap admin, the ACLs derived from the topic catalogue (each service its
// own principal, single writer per topic; docs/adr/0017) and the catalogue topics. Idempotent. Shipped in the image.
//   KAFKA_BROKERS=kafka:9092 KAFKA_SASL_USERNAME=grantline-admin KAFKA_SASL_PASSWORD=... \
//   GRANTLINE_CONNECTORS=postgres=connector-postgres node tools/kafka-setup/main.js
import { kafkaSaslFromEnv, provisionKafkaNamespace } from '@grantline/messaging';
import type { ConnectorDeployment } from '@grantline/messaging';

const CONNECTOR = /^([a-z0-9][a-z0-9_-]{0,99})=([a-z][a-z0-9-]{0,62})$/;

/** `GRANTLINE_CONNECTORS`: `<id>=<service>,...`, e.g. `postgres=connector-postgres`; bad entries are named. */
export function connectorsFrom(raw: string | undefined): ConnectorDeployment[] {
  const entries = (raw ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  const bad = entries.filter((entry) => !CONNECTOR.test(entry));
  if (bad.length > 0) throw new Error(`GRANTLINE_CONNECTORS: ${bad.join(', ')}: expected <id>=<service>, e.g. postgres=connector-postgres`);
  return entries.map((entry) => {
    const [, id = '', service = ''] = CONNECTOR.exec(entry) ?? [];
    return { id, service };
  });
}

async function main(): Promise<void> {
  const brokers = (process.env['KAFKA_BROKERS'] ?? '')
    .split(',')
    .map((broker) => broker.trim())
    .filter(Boolean);
  if (brokers.length === 0) throw new Error('KAFKA_BROKERS: required (host:port,...)');
  const admin = kafkaSaslFromEnv(process.env);
  if (admin === undefined) throw new Error('KAFKA_SASL_USERNAME / KAFKA_SASL_PASSWORD: required (the bootstrap admin, a super user)');
  const namespace = (process.env['KAFKA_TOPIC_NAMESPACE'] ?? '').trim();
  const provisioned = await provisionKafkaNamespace({
    brokers,
    admin,
    connectors: connectorsFrom(process.env['GRANTLINE_CONNECTORS']),
    ...(namespace === '' ? {} : { namespace }),
  });
  process.stdout.write(
    `${JSON.stringify({ msg: 'kafka set up', principals: provisioned.plan.principals.map((p) => p.name), aclsCreated: provisioned.aclsCreated, topics: provisioned.topics.length })}\n`,
  );
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`kafka-setup: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
