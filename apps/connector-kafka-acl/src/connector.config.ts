import { z } from 'zod';
import { connectorConfigLoader } from '@grantline/connector-host';
import { KAFKA_ACL_MANAGED_PREFIX, kafkaSaslCredentials } from '@grantline/messaging';
import type { KafkaSaslCredentials } from '@grantline/messaging';

const brokerList = z
  .string()
  .transform((value) =>
    value
      .split(',')
      .map((broker) => broker.trim())
      .filter(Boolean),
  )
  .refine((brokers) => brokers.length > 0 && brokers.every((broker) => /^[A-Za-z0-9.-]+:\d{1,5}$/.test(broker)), {
    message: 'expected host:port[,host:port...]',
  });

/**
 * The target's variables; CONNECTOR_ID and CONNECTOR_MAX_ATTEMPTS / CONNECTOR_RETRY_* are the host's. The target broker
 * defaults to the platform's own (KAFKA_BROKERS) and the login to the service's own principal (KAFKA_SASL_*), which the
 * deployment's ACL plan gives ALTER and DESCRIBE on the cluster.
 */
export const KafkaAclEnvSchema = z
  .object({
    KAFKA_ACL_BROKERS: brokerList.optional(),
    KAFKA_BROKERS: brokerList.optional(),
    KAFKA_ACL_SASL_USERNAME: z.string().min(1).optional(),
    KAFKA_ACL_SASL_PASSWORD: z.string().min(1).optional(),
    KAFKA_SASL_USERNAME: z.string().min(1).optional(),
    KAFKA_SASL_PASSWORD: z.string().min(1).optional(),
    /** Only topics and consumer groups starting with this are granted, revoked or reported. */
    KAFKA_ACL_MANAGED_PREFIX: z
      .string()
      .regex(/^[A-Za-z0-9._-]{2,100}$/, { message: 'expected 2-100 of [A-Za-z0-9._-], e.g. jit.' })
      .refine((prefix) => !'iga.'.startsWith(prefix) && !prefix.startsWith('iga.') && !prefix.startsWith('__'), {
        message: "must not cover Grantline's own topics (iga.) or Kafka's internal ones (__)",
      })
      .default(KAFKA_ACL_MANAGED_PREFIX),
    /** Only principals starting with this, e.g. User:svc-. */
    KAFKA_ACL_PRINCIPAL_PREFIX: z
      .string()
      .regex(/^User:[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$/, { message: 'expected User:<name prefix>, e.g. User:svc-' })
      .default('User:svc-'),
    KAFKA_ACL_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
  })
  .superRefine((env, ctx) => {
    if (env.KAFKA_ACL_BROKERS === undefined && env.KAFKA_BROKERS === undefined) {
      ctx.addIssue({ code: 'custom', path: ['KAFKA_ACL_BROKERS'], message: 'Required (or KAFKA_BROKERS): the target broker' });
    }
    for (const [user, password] of [
      ['KAFKA_ACL_SASL_USERNAME', 'KAFKA_ACL_SASL_PASSWORD'],
      ['KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD'],
    ] as const) {
      if ((env[user] === undefined) !== (env[password] === undefined))
        ctx.addIssue({ code: 'custom', path: [env[user] === undefined ? user : password], message: `set both ${user} and ${password}, or neither` });
    }
  });

export interface KafkaAclTargetConfig {
  readonly brokers: readonly string[];
  /** Undefined: a plaintext broker (which has no authorizer: every call will fail with SECURITY_DISABLED). */
  readonly sasl: KafkaSaslCredentials | undefined;
  readonly managedResourcePrefix: string;
  readonly managedPrincipalPrefix: string;
  readonly requestTimeoutMs: number;
}

function saslOf(username: string | undefined, password: string | undefined): KafkaSaslCredentials | undefined {
  // the password is not enumerable: a configuration logged by mistake carries the user name only
  return username === undefined || password === undefined ? undefined : kafkaSaslCredentials(username, password);
}

export const loadConnectorConfig = connectorConfigLoader({
  defaultConnectorId: 'kafka-acl',
  env: KafkaAclEnvSchema,
  target: (env): KafkaAclTargetConfig => ({
    brokers: env.KAFKA_ACL_BROKERS ?? env.KAFKA_BROKERS ?? [],
    sasl: saslOf(env.KAFKA_ACL_SASL_USERNAME, env.KAFKA_ACL_SASL_PASSWORD) ?? saslOf(env.KAFKA_SASL_USERNAME, env.KAFKA_SASL_PASSWORD),
    managedResourcePrefix: env.KAFKA_ACL_MANAGED_PREFIX,
    managedPrincipalPrefix: env.KAFKA_ACL_PRINCIPAL_PREFIX,
    requestTimeoutMs: env.KAFKA_ACL_REQUEST_TIMEOUT_MS,
  }),
});

export type ConnectorConfig = ReturnType<typeof loadConnectorConfig>;
