import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { infraPaths } from './infra/infra.config';
import { kafkaLibsDir } from './infra/kafka-local.provider';
import { changeScramUsers, newKafkaPassword } from './infra/kafka-security';
import type { KafkaUserSecret } from './infra/kafka-security';
import { startPrivateKafka } from './infra/private-servers';
import type { PrivateKafka } from './infra/private-servers';
import { freePortOutsideEphemeralRange } from './infra/process.util';

// docker-compose.yml's broker cannot be started here as compose would (no Docker engine), so its configuration is:
// deploy/kafka/server.properties and the SCRAM users of compose's KAFKA_SERVICE_USERS on a private broker of the
// harness's jars, only the ports and the data directory changed, as deploy/kafka/start.sh formats and starts it.
const ROOT = infraPaths().root;

/** `${NAME:-default}` as compose reads it without an .env file. */
const withDefaults = (text: string): string => text.replace(/\$\{[A-Z0-9_]+:-([^}]*)\}/g, '$1');

function composeServiceUsers(): KafkaUserSecret[] {
  const compose = parse(withDefaults(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'))) as {
    services: { kafka: { environment: { KAFKA_SERVICE_USERS: string } } };
  };
  return compose.services.kafka.environment.KAFKA_SERVICE_USERS.split(/\s+/)
    .filter(Boolean)
    .map((pair) => ({ username: pair.slice(0, pair.indexOf('=')), password: pair.slice(pair.indexOf('=') + 1) }));
}

describe("docker-compose.yml's broker (deploy/kafka/server.properties, compose's SCRAM users)", () => {
  const users = composeServiceUsers();
  let kafka: PrivateKafka;

  beforeAll(async () => {
    const hostPort = await freePortOutsideEphemeralRange();
    kafka = await startPrivateKafka({
      sasl: true,
      scramUsers: users,
      serverProperties: ({ dataDir, port, controllerPort, secrets }) =>
        readFileSync(join(ROOT, 'deploy/kafka/server.properties'), 'utf8')
          .replaceAll('@ADMIN_PASSWORD@', secrets?.adminPassword ?? '')
          .replaceAll('@CONTROLLER_PASSWORD@', secrets?.controllerPassword ?? '')
          .replace('INTERNAL://:9092', `INTERNAL://127.0.0.1:${port}`)
          .replace('INTERNAL://kafka:9092', `INTERNAL://127.0.0.1:${port}`)
          .replace('EXTERNAL://:19092', `EXTERNAL://127.0.0.1:${hostPort}`)
          .replace('EXTERNAL://127.0.0.1:19092', `EXTERNAL://127.0.0.1:${hostPort}`)
          .replaceAll('localhost:9093', `127.0.0.1:${controllerPort}`)
          .replace('log.dirs=/var/lib/kafka/data', `log.dirs=${dataDir}`),
    });
  }, 240_000);

  afterAll(() => kafka?.dispose());

  const probeChange = (): { action: 'upsert'; username: string; password: string }[] => [
    { action: 'upsert', username: 'compose-probe', password: newKafkaPassword() },
  ];
  const asUser = (login: KafkaUserSecret): Promise<void> =>
    changeScramUsers({ root: ROOT, kafkaLibs: kafkaLibsDir(infraPaths()), brokers: kafka.brokers, admin: login, changes: probeChange() });

  it('starts, and its bootstrap admin may change users', async () => {
    expect(users.map((user) => user.username)).toEqual(expect.arrayContaining(['intake', 'connector:postgres']));
    await expect(kafka.changeUsers(probeChange())).resolves.toBeUndefined();
  }, 120_000);

  it('authenticates a service with the password compose gives it, and its ACLs refuse it what only the admin may do', async () => {
    const intake = users.find((user) => user.username === 'intake');
    if (intake === undefined) throw new Error('docker-compose.yml gives the broker no SCRAM user for intake');
    await expect(asUser(intake)).rejects.toThrow(/ClusterAuthorizationException|not authorized/i);
    await expect(asUser({ username: 'intake', password: 'not-the-password-of-intake' })).rejects.toThrow(/SaslAuthenticationException|Authentication failed/i);
  }, 120_000);
});
