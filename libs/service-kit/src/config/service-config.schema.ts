import { readFileSync } from 'node:fs';
import { z } from 'zod';
import {
  DEFAULT_SNAPSHOT_COMPACT_EVERY_MS,
  DEFAULT_SNAPSHOT_MIN_EVENTS,
  DEFAULT_STALL_AFTER_MS,
  TopicNamespace,
  kafkaSaslCredentials,
} from '@grantline/messaging';
import type { KafkaSaslCredentials } from '@grantline/messaging';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** What a service needs to know before it can start; the rest is defaulted from these. */
export interface ServiceConfigDefaults {
  readonly serviceName: string;
  /** Port used when PORT is not set (each service has its own, so they can run side by side). */
  readonly defaultPort?: number;
}

export interface ServiceConfig {
  readonly serviceName: string;
  readonly port: number;
  readonly host: string;
  readonly kafkaBrokers: readonly string[];
  /** Prefix of this environment's topics and groups on a shared cluster; undefined: the catalogue's names as they are. */
  readonly kafkaNamespace?: string;
  /**
   * The service's own Kafka principal (SASL/SCRAM-SHA-512, docs/adr/0017); undefined: a plaintext broker. The password
   * is not enumerable, so a logged or serialised config never shows it.
   */
  readonly kafkaSasl?: KafkaSaslCredentials;
  readonly mongoUrl: string;
  readonly mongoDb: string;
  readonly logLevel: LogLevel;
  /** Upper bound for a graceful stop (stop consuming, drain, disconnect) before the process is forced out. */
  readonly shutdownTimeoutMs: number;
  /** A partition failing or making no progress this long is reported stalled (readiness goes down). */
  readonly consumerStallAfterMs: number;
  /** Snapshots of the replayed states (ADR 0037); undefined: every start replays the whole log. */
  readonly stateSnapshots?: { readonly minEvents: number; readonly compactEveryMs: number };
}

const SERVICE_NAME = /^[a-z][a-z0-9-]{0,62}$/;
const BROKER = /^[A-Za-z0-9.-]+:\d{1,5}$/;

const envSchema = z.object({
  SERVICE_NAME: z.string().regex(SERVICE_NAME, 'lowercase letters, digits and dashes, starting with a letter'),
  PORT: z.coerce.number().int().min(0).max(65535),
  HOST: z.string().min(1),
  KAFKA_BROKERS: z
    .string({ error: 'required: comma-separated host:port list of Kafka brokers' })
    .transform((raw) =>
      raw
        .split(',')
        .map((broker) => broker.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.string().regex(BROKER, 'each broker must be host:port')).min(1, 'at least one broker')),
  KAFKA_TOPIC_NAMESPACE: z
    .string()
    .regex(TopicNamespace.PATTERN, 'lowercase letters, digits and dashes (at most 48), starting with a letter or digit')
    .optional(),
  KAFKA_SASL_USERNAME: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9:._-]{0,199}$/, 'letters, digits and : . _ - (the Kafka principal name)')
    .optional(),
  // never echoed back: the message names the variable only
  KAFKA_SASL_PASSWORD: z
    .string()
    .regex(/^[\x21-\x7e]{16,}$/, 'at least 16 printable ASCII characters without spaces')
    .optional(),
  MONGO_URL: z
    .string({ error: 'required: MongoDB connection string (mongodb://host:port)' })
    .regex(/^mongodb(\+srv)?:\/\/.+/, 'must start with mongodb:// or mongodb+srv://'),
  // MongoDB database names cannot contain these characters.
  MONGO_DB: z.string().regex(/^[^/\\. "$*<>:|?]{1,63}$/, 'not a valid MongoDB database name'),
  LOG_LEVEL: z.enum(LOG_LEVELS),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000),
  CONSUMER_STALL_AFTER_MS: z.coerce.number().int().min(1_000).max(3_600_000),
  STATE_SNAPSHOTS: z.enum(['on', 'off'], { error: 'on or off' }),
  STATE_SNAPSHOT_MIN_EVENTS: z.coerce.number().int().min(1).max(1_000_000_000),
  STATE_SNAPSHOT_COMPACT_EVERY_MS: z.coerce.number().int().min(0).max(86_400_000),
});

/** Thrown when the environment cannot start a service; the message names every bad variable. */
export class ServiceConfigError extends Error {
  constructor(readonly problems: readonly { variable: string; message: string }[]) {
    super(`invalid service configuration: ${problems.map((p) => `${p.variable}: ${p.message}`).join('; ')}`);
    this.name = 'ServiceConfigError';
  }
}

function blankToUndefined(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}

/**
 * The Kafka password: KAFKA_SASL_PASSWORD, or the first line of the file KAFKA_SASL_PASSWORD_FILE names (a mounted
 * secret), never both. Problems name the variable, never the value.
 */
function kafkaPassword(env: NodeJS.ProcessEnv): { value: string | undefined; problems: { variable: string; message: string }[] } {
  const inline = env['KAFKA_SASL_PASSWORD'] === undefined || env['KAFKA_SASL_PASSWORD'] === '' ? undefined : env['KAFKA_SASL_PASSWORD'];
  const file = blankToUndefined(env['KAFKA_SASL_PASSWORD_FILE']);
  if (inline !== undefined && file !== undefined) {
    return { value: undefined, problems: [{ variable: 'KAFKA_SASL_PASSWORD_FILE', message: 'set KAFKA_SASL_PASSWORD or KAFKA_SASL_PASSWORD_FILE, not both' }] };
  }
  if (file === undefined) return { value: inline, problems: [] };
  try {
    return { value: readFileSync(file, 'utf8').split('\n')[0]?.trim() ?? '', problems: [] };
  } catch (error) {
    return {
      value: undefined,
      problems: [{ variable: 'KAFKA_SASL_PASSWORD_FILE', message: `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}` }],
    };
  }
}

/**
 * One database per service, and per namespace: read models and checkpoints (kept per topic partition) belong to
 * one log, so an environment in another namespace must not resume from them.
 */
function defaultDatabase(serviceName: string, namespace: string | undefined): string {
  const safe = (name: string): string => name.replace(/[^A-Za-z0-9_]/g, '_');
  return namespace === undefined ? `grantline_${safe(serviceName)}` : `grantline_${safe(namespace)}_${safe(serviceName)}`;
}

/**
 * Reads the service configuration from the environment. Fails on the first start-up step with every
 * problem listed, so a misconfigured deployment says what to fix instead of failing later on a socket.
 */
export function loadServiceConfig(env: NodeJS.ProcessEnv, defaults: ServiceConfigDefaults): ServiceConfig {
  const serviceName = blankToUndefined(env['SERVICE_NAME']) ?? defaults.serviceName;
  const input = {
    SERVICE_NAME: serviceName,
    PORT: blankToUndefined(env['PORT']) ?? defaults.defaultPort ?? 3000,
    HOST: blankToUndefined(env['HOST']) ?? '127.0.0.1',
    KAFKA_BROKERS: blankToUndefined(env['KAFKA_BROKERS']),
    KAFKA_TOPIC_NAMESPACE: blankToUndefined(env['KAFKA_TOPIC_NAMESPACE']),
    MONGO_URL: blankToUndefined(env['MONGO_URL']),
    MONGO_DB: blankToUndefined(env['MONGO_DB']) ?? defaultDatabase(serviceName, blankToUndefined(env['KAFKA_TOPIC_NAMESPACE'])),
    LOG_LEVEL: blankToUndefined(env['LOG_LEVEL']) ?? 'info',
    SHUTDOWN_TIMEOUT_MS: blankToUndefined(env['SHUTDOWN_TIMEOUT_MS']) ?? 10_000,
    CONSUMER_STALL_AFTER_MS: blankToUndefined(env['CONSUMER_STALL_AFTER_MS']) ?? DEFAULT_STALL_AFTER_MS,
    STATE_SNAPSHOTS: blankToUndefined(env['STATE_SNAPSHOTS']) ?? 'on',
    STATE_SNAPSHOT_MIN_EVENTS: blankToUndefined(env['STATE_SNAPSHOT_MIN_EVENTS']) ?? DEFAULT_SNAPSHOT_MIN_EVENTS,
    STATE_SNAPSHOT_COMPACT_EVERY_MS: blankToUndefined(env['STATE_SNAPSHOT_COMPACT_EVERY_MS']) ?? DEFAULT_SNAPSHOT_COMPACT_EVERY_MS,
  };
  const password = kafkaPassword(env);
  const parsed = envSchema.safeParse({
    ...input,
    KAFKA_SASL_USERNAME: blankToUndefined(env['KAFKA_SASL_USERNAME']),
    KAFKA_SASL_PASSWORD: password.value,
  });
  const problems = [
    ...password.problems,
    ...(parsed.success ? [] : parsed.error.issues.map((issue) => ({ variable: String(issue.path[0] ?? '?'), message: issue.message }))),
  ];
  if (password.problems.length === 0 && parsed.success && (parsed.data.KAFKA_SASL_USERNAME === undefined) !== (parsed.data.KAFKA_SASL_PASSWORD === undefined)) {
    problems.push(
      parsed.data.KAFKA_SASL_USERNAME === undefined
        ? { variable: 'KAFKA_SASL_USERNAME', message: 'required with KAFKA_SASL_PASSWORD / KAFKA_SASL_PASSWORD_FILE' }
        : { variable: 'KAFKA_SASL_PASSWORD', message: 'required with KAFKA_SASL_USERNAME (or KAFKA_SASL_PASSWORD_FILE)' },
    );
  }
  if (!parsed.success || problems.length > 0) throw new ServiceConfigError(problems);
  const data = parsed.data;
  return {
    serviceName: data.SERVICE_NAME,
    port: data.PORT,
    host: data.HOST,
    kafkaBrokers: data.KAFKA_BROKERS,
    ...(data.KAFKA_TOPIC_NAMESPACE === undefined ? {} : { kafkaNamespace: data.KAFKA_TOPIC_NAMESPACE }),
    ...(data.KAFKA_SASL_USERNAME === undefined || data.KAFKA_SASL_PASSWORD === undefined
      ? {}
      : { kafkaSasl: kafkaSaslCredentials(data.KAFKA_SASL_USERNAME, data.KAFKA_SASL_PASSWORD) }),
    mongoUrl: data.MONGO_URL,
    mongoDb: data.MONGO_DB,
    logLevel: data.LOG_LEVEL,
    shutdownTimeoutMs: data.SHUTDOWN_TIMEOUT_MS,
    consumerStallAfterMs: data.CONSUMER_STALL_AFTER_MS,
    ...(data.STATE_SNAPSHOTS === 'on'
      ? { stateSnapshots: { minEvents: data.STATE_SNAPSHOT_MIN_EVENTS, compactEveryMs: data.STATE_SNAPSHOT_COMPACT_EVERY_MS } }
      : {}),
  };
}
