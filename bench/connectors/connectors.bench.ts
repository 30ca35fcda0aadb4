/**
 * `npm run bench:connectors [-- postgres ldap scim kafka-acl credentials]`: grant and revoke latency of every connector
 * (or the ones named) against its real target, each beside a baseline measured in the same run: one bare read of that
 * target, the floor of any change there (bench/connectors/connector-latency.ts). `bench:scim`, `bench:kafka-acl` and
 * `bench:credentials` run one connector each.
 *
 * BENCH_CONNECTOR_OPS (50): rounds measured per connector, after 5 warm-up rounds.
 */
import { loadavg } from 'node:os';
import { globalSetup, globalTeardown } from '@grantline/testing';
import { measureLatency } from './connector-latency';
import type { LatencySummary, LatencyTarget } from './connector-latency';
import { credentialsTarget } from './credentials.target';
import { kafkaAclTarget } from './kafka-acl.target';
import { ldapTarget } from './ldap.target';
import { postgresTarget } from './postgres.target';
import { scimTarget } from './scim.target';

export const CONNECTOR_TARGETS: Readonly<Record<string, () => Promise<LatencyTarget>>> = {
  postgres: postgresTarget,
  ldap: ldapTarget,
  scim: scimTarget,
  'kafka-acl': kafkaAclTarget,
  credentials: credentialsTarget,
};

const say = (line: string): void => void process.stderr.write(`connectors | ${line}\n`);

export async function runConnectorsBench(names: readonly string[]): Promise<void> {
  const ops = Number(process.env['BENCH_CONNECTOR_OPS'] ?? 50);
  if (!Number.isInteger(ops) || ops < 1) throw new Error(`BENCH_CONNECTOR_OPS=${process.env['BENCH_CONNECTOR_OPS']} is not a positive whole number`);
  const chosen = names.length === 0 ? Object.keys(CONNECTOR_TARGETS) : names;
  const unknown = chosen.filter((name) => CONNECTOR_TARGETS[name] === undefined);
  if (unknown.length > 0) throw new Error(`unknown connector(s) ${unknown.join(', ')} (${Object.keys(CONNECTOR_TARGETS).join(' | ')})`);
  await globalSetup();
  try {
    const connectors: Record<string, LatencySummary> = {};
    for (const name of chosen) {
      const target = await (CONNECTOR_TARGETS[name] as () => Promise<LatencyTarget>)();
      connectors[name] = await measureLatency(target, ops, say);
    }
    process.stdout.write(`${JSON.stringify({ bench: 'connectors', ops, connectors, load1: Number((loadavg()[0] ?? 0).toFixed(2)) })}\n`);
  } finally {
    await globalTeardown();
  }
}
