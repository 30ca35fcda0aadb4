import { KafkaMessageBus, TopicNamespace, jsonConsoleLogger, silentLogger } from '@grantline/messaging';
import type { EventRegistry } from '@grantline/contracts';

/** Where the CLI connects: the same variables the services read (KAFKA_BROKERS, KAFKA_TOPIC_NAMESPACE). */
export interface KafkaSettings {
  readonly brokers: readonly string[];
  /** Undefined: the catalogue's topic names as they are (a service without KAFKA_TOPIC_NAMESPACE). */
  readonly namespace?: string;
}

/** Flags given on the command line win over the environment; an empty namespace means none. */
export interface KafkaOverrides {
  readonly brokers?: string;
  readonly namespace?: string;
}

const BROKER = /^[A-Za-z0-9.-]+:\d{1,5}$/;

/** Thrown for settings a service would refuse too; the message says which and why. */
export class SettingsError extends Error {
  override readonly name = 'SettingsError';
}

const blankToUndefined = (value: string | undefined): string | undefined => (value === undefined || value.trim() === '' ? undefined : value.trim());

/**
 * The brokers and namespace, validated as the services validate them (libs/service-kit's config): every broker
 * host:port, the namespace lowercase letters, digits and dashes. `npm start` runs in the `local` namespace.
 */
export function kafkaSettings(env: NodeJS.ProcessEnv, overrides: KafkaOverrides = {}): KafkaSettings {
  const rawBrokers = blankToUndefined(overrides.brokers) ?? blankToUndefined(env['KAFKA_BROKERS']);
  if (rawBrokers === undefined) throw new SettingsError('KAFKA_BROKERS is not set: comma-separated host:port list of Kafka brokers (or --brokers)');
  const brokers = rawBrokers
    .split(',')
    .map((broker) => broker.trim())
    .filter(Boolean);
  const bad = brokers.filter((broker) => !BROKER.test(broker));
  if (brokers.length === 0 || bad.length > 0) throw new SettingsError(`KAFKA_BROKERS: each broker must be host:port (got ${rawBrokers})`);
  const namespace = overrides.namespace !== undefined ? blankToUndefined(overrides.namespace) : blankToUndefined(env['KAFKA_TOPIC_NAMESPACE']);
  if (namespace !== undefined && !TopicNamespace.PATTERN.test(namespace)) {
    throw new SettingsError(`KAFKA_TOPIC_NAMESPACE: lowercase letters, digits and dashes (at most 48), starting with a letter or digit (got ${namespace})`);
  }
  return { brokers, ...(namespace === undefined ? {} : { namespace }) };
}

/** A bus for one CLI invocation (through the messaging lib: nothing else may speak Kafka). */
export function openBus(settings: KafkaSettings, registry: EventRegistry, options: { verbose?: boolean } = {}): KafkaMessageBus {
  return new KafkaMessageBus({
    clientId: 'grantline-cli',
    brokers: settings.brokers,
    registry,
    logger: options.verbose === true ? jsonConsoleLogger : silentLogger,
    connectionTimeoutMs: 5_000,
    ...(settings.namespace === undefined ? {} : { namespace: settings.namespace }),
  });
}
