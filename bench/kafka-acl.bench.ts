/**
 * `npm run bench:kafka-acl`: grant and revoke latency of the Kafka ACL connector against the real local broker
 * (SASL/SCRAM + StandardAuthorizer), beside a baseline measured in the same run: one bare DescribeAcls round trip
 * through the same ACL admin port, the floor of any ACL change. A grant is check (describe) → topic exists → create;
 * a revoke is check → delete; each on a fresh service account, so every call changes the broker.
 *
 * BENCH_KAFKA_ACL_OPS (50): grants and revokes measured (after 5 warm-up rounds).
 */
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { idempotencyKeyOf } from '@grantline/connector-sdk';
// eslint-disable-next-line @nx/enforce-module-boundaries -- the bench measures the connector itself against the real broker
import { KafkaAclConnector } from '@grantline/connector-kafka-acl';
import { registry } from '@grantline/contracts';
import { KafkaAclAdmin, KafkaMessageBus, kafkaSaslFromEnv, silentLogger } from '@grantline/messaging';
import { globalSetup, globalTeardown } from '@grantline/testing';

const say = (line: string): void => void process.stderr.write(`kafka-acl | ${line}\n`);

function percentile(samples: readonly number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return performance.now() - started;
}

async function runKafkaAclBench(): Promise<void> {
  const ops = Number(process.env['BENCH_KAFKA_ACL_OPS'] ?? 50);
  if (!Number.isInteger(ops) || ops < 1) throw new Error(`BENCH_KAFKA_ACL_OPS=${process.env['BENCH_KAFKA_ACL_OPS']} is not a positive whole number`);
  const brokers = (process.env['KAFKA_BROKERS'] ?? '').split(',').filter(Boolean);
  const admin = kafkaSaslFromEnv();
  if (brokers.length === 0 || admin === undefined)
    throw new Error('the benchmark needs the SASL broker (KAFKA_BROKERS, KAFKA_SASL_*) after infrastructure setup');
  const run = randomBytes(3).toString('hex');
  const namespace = `jitbench-${run}`;
  const topic = `${namespace}.orders`;
  const bus = new KafkaMessageBus({ clientId: `bench-kafka-acl-${run}`, brokers, registry, logger: silentLogger, namespace });
  const port = new KafkaAclAdmin({ clientId: `bench-kafka-acl-${run}`, brokers, sasl: admin });
  const connector = new KafkaAclConnector({ id: 'kafka-acl', admin: port, managedResourcePrefix: `${namespace}.`, managedPrincipalPrefix: 'User:svc-' });
  const accounts: string[] = [];
  try {
    await bus.ensureTopics([{ topic: 'orders', partitions: 1 }]);
    const baseline: number[] = [];
    const grant: number[] = [];
    const revoke: number[] = [];
    const noop: number[] = [];
    for (let round = -5; round < ops; round += 1) {
      const account = `svc-bench-${run}-${round + 5}`;
      accounts.push(account);
      const op = (operation: 'provision' | 'deprovision') => ({
        grantId: `g-${account}`,
        operation,
        idempotencyKey: idempotencyKeyOf(`g-${account}`, operation),
        account,
        entitlementRef: `topic:${topic}:write`,
      });
      const b = await timed(() => port.describeAcls({ principal: `User:${account}` }));
      const g = await timed(async () => {
        if (!(await connector.provision(op('provision'))).changed) throw new Error('a grant on a fresh account changed nothing');
      });
      const n = await timed(async () => {
        if ((await connector.provision(op('provision'))).changed) throw new Error('a repeated grant changed the broker');
      });
      const r = await timed(async () => {
        if (!(await connector.deprovision(op('deprovision'))).changed) throw new Error('a revoke of a live grant changed nothing');
      });
      if (round < 0) continue;
      baseline.push(b);
      grant.push(g);
      noop.push(n);
      revoke.push(r);
    }
    const row = (label: string, samples: readonly number[]): string =>
      `${label.padEnd(34)} p50 ${percentile(samples, 50).toFixed(1).padStart(7)} ms   p95 ${percentile(samples, 95).toFixed(1).padStart(7)} ms   ×${(
        percentile(samples, 50) / percentile(baseline, 50)
      ).toFixed(1)} baseline`;
    say(`${ops} grants and revokes on ${brokers.join(',')} (load ${loadavg()[0]?.toFixed(2)})`);
    say(row('baseline: one DescribeAcls', baseline));
    say(row('grant (check, topic, create)', grant));
    say(row('grant again (check only, no-op)', noop));
    say(row('revoke (check, delete)', revoke));
    process.stdout.write(
      `${JSON.stringify({
        bench: 'kafka-acl',
        ops,
        baselineDescribeP50Ms: Number(percentile(baseline, 50).toFixed(2)),
        grantP50Ms: Number(percentile(grant, 50).toFixed(2)),
        grantP95Ms: Number(percentile(grant, 95).toFixed(2)),
        noopGrantP50Ms: Number(percentile(noop, 50).toFixed(2)),
        revokeP50Ms: Number(percentile(revoke, 50).toFixed(2)),
        revokeP95Ms: Number(percentile(revoke, 95).toFixed(2)),
        load1: Number((loadavg()[0] ?? 0).toFixed(2)),
      })}\n`,
    );
  } finally {
    for (const account of accounts) {
      const left = await port.describeAcls({ principal: `User:${account}` }).catch(() => []);
      if (left.length > 0) await port.deleteAcls(left).catch(() => undefined);
    }
    await connector.close();
    await bus.deleteNamespace().catch(() => undefined);
    await bus.disconnect();
  }
}

export async function runKafkaAclBenchWithInfra(): Promise<void> {
  await globalSetup();
  try {
    await runKafkaAclBench();
  } finally {
    await globalTeardown();
  }
}
