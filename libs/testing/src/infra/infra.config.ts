import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** Pinned versions; docs/adr/0002 says why Kafka 4.4.0 (tools/kafka/pom.xml carries the same default). */
export const KAFKA_VERSION = '4.4.0';
export const FERRETDB_VERSION = 'v1.24.2';
export const FERRETDB_MODULE = 'github.com/FerretDB/FerretDB';
export const DOCKER_IMAGES = {
  kafka: `apache/kafka:${KAFKA_VERSION}`,
  mongo: 'mongo:7',
  postgres: 'postgres:16',
} as const;

function portFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`${name}=${raw} is not a TCP port`);
  return port;
}

/** Loopback only: nothing this harness starts is reachable from another machine. */
export const LOOPBACK = '127.0.0.1';

export interface InfraPaths {
  root: string;
  cache: string;
  data: string;
  logs: string;
  stateFile: string;
  lockDir: string;
  leasesDir: string;
}

function findRepoRoot(start: string): string {
  let dir = start;
  for (;;) {
    if (existsSync(join(dir, 'nx.json')) && existsSync(join(dir, 'package.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find the repository root (nx.json) above ${start}`);
    dir = parent;
  }
}

export function infraPaths(root = process.env['GRANTLINE_ROOT'] ?? findRepoRoot(__dirname)): InfraPaths {
  const data = join(root, '.grantline');
  return {
    root,
    cache: join(root, '.cache'),
    data,
    logs: join(data, 'logs'),
    stateFile: join(data, 'infra.json'),
    lockDir: join(data, 'infra.lock'),
    leasesDir: join(data, 'leases'),
  };
}

export function infraPorts(): { kafka: number; kafkaController: number; mongo: number; postgres: number; ldap: number; scim: number } {
  return {
    kafka: portFromEnv('GRANTLINE_KAFKA_PORT', 19092),
    kafkaController: portFromEnv('GRANTLINE_KAFKA_CONTROLLER_PORT', 19093),
    mongo: portFromEnv('GRANTLINE_MONGO_PORT', 27027),
    postgres: portFromEnv('GRANTLINE_PG_PORT', 15432),
    ldap: portFromEnv('GRANTLINE_LDAP_PORT', 13389),
    scim: portFromEnv('GRANTLINE_SCIM_PORT', 18443),
  };
}
