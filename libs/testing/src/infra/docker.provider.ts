import { randomBytes } from 'node:crypto';
import { DOCKER_IMAGES, infraPorts } from './infra.config';
import type { ComponentRuntime, InfraComponent, InfraLog } from './infra.types';
import { runCommand } from './process.util';

/** Docker is used only when an engine answers; a docker CLI without an engine does not count. */
export async function dockerEngineAvailable(): Promise<boolean> {
  const result = await runCommand('docker', ['info', '--format', '{{.ServerVersion}}'], { timeoutMs: 15_000 });
  return result.code === 0 && result.stdout.trim() !== '';
}

/**
 * Starts one component as a container through testcontainers. Not exercised on machines
 * without an engine (ours); kept deliberately small. Ryuk is disabled so containers outlive
 * the starting process like local servers do; `infra down` removes them by id.
 */
/** Every component but OpenLDAP (Debian packages) and the SCIM target (a Node process), the same with either provider. */
export async function startDockerComponent(component: Exclude<InfraComponent, 'ldap' | 'scim'>, log: InfraLog): Promise<ComponentRuntime> {
  process.env['TESTCONTAINERS_RYUK_DISABLED'] = 'true';
  const { GenericContainer, Wait } = await import('testcontainers');
  const startedAt = new Date().toISOString();
  log(`${component}: starting ${DOCKER_IMAGES[component]} with testcontainers...`);
  switch (component) {
    case 'kafka': {
      // Kafka redirects clients to its advertised listener, so host and container ports must match.
      const port = infraPorts().kafka;
      const container = await new GenericContainer(DOCKER_IMAGES.kafka)
        .withEnvironment({
          KAFKA_NODE_ID: '1',
          KAFKA_PROCESS_ROLES: 'broker,controller',
          KAFKA_LISTENERS: `PLAINTEXT://:${port},CONTROLLER://:9093`,
          KAFKA_ADVERTISED_LISTENERS: `PLAINTEXT://127.0.0.1:${port}`,
          KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
          KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
          KAFKA_CONTROLLER_QUORUM_VOTERS: '1@localhost:9093',
          KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
          KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
          KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
          KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
          KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'false',
        })
        .withExposedPorts({ container: port, host: port })
        .withWaitStrategy(Wait.forLogMessage(/Kafka Server started/))
        .start();
      const address = `127.0.0.1:${port}`;
      return { component, mode: 'docker', version: `Apache Kafka (${DOCKER_IMAGES.kafka})`, address, url: address, containerId: container.getId(), startedAt };
    }
    case 'mongo': {
      const container = await new GenericContainer(DOCKER_IMAGES.mongo)
        .withExposedPorts(27017)
        .withWaitStrategy(Wait.forLogMessage(/Waiting for connections/))
        .start();
      const address = `${container.getHost()}:${container.getMappedPort(27017)}`;
      return {
        component,
        mode: 'docker',
        version: `MongoDB (${DOCKER_IMAGES.mongo})`,
        address,
        url: `mongodb://${address}/`,
        containerId: container.getId(),
        startedAt,
      };
    }
    case 'postgres': {
      const password = randomBytes(18).toString('hex');
      const container = await new GenericContainer(DOCKER_IMAGES.postgres)
        .withEnvironment({ POSTGRES_USER: 'grantline', POSTGRES_PASSWORD: password })
        .withExposedPorts(5432)
        // the image restarts the server once after init; the second line is the real one
        .withWaitStrategy(Wait.forLogMessage(/database system is ready to accept connections/, 2))
        .start();
      const address = `${container.getHost()}:${container.getMappedPort(5432)}`;
      return {
        component,
        mode: 'docker',
        version: `PostgreSQL (${DOCKER_IMAGES.postgres})`,
        address,
        url: `postgres://grantline:${password}@${address}/postgres`,
        containerId: container.getId(),
        startedAt,
      };
    }
  }
}

export async function removeContainer(containerId: string): Promise<void> {
  await runCommand('docker', ['rm', '-f', '-v', containerId], { timeoutMs: 60_000 });
}
