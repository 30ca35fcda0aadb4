// The broker's security mode, one switch for the harness, the specs and `npm start`: `plaintext` (no authentication,
// no ACLs) or `sasl` (SASL/SCRAM-SHA-512 for clients, the KRaft StandardAuthorizer, deny by default; ADR 0017).
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import type { InfraPaths } from './infra.config';
import { runCommand } from './process.util';

export type KafkaSecurity = 'plaintext' | 'sasl';

/** The switch; unset means plaintext (the default until every engineer's work runs with SASL). */
export const KAFKA_SECURITY_ENV = 'GRANTLINE_KAFKA_SECURITY';

/** The bootstrap admin: a super user, created when the storage is formatted; it creates topics, users and ACLs. */
export const KAFKA_ADMIN_USER = 'grantline-admin';

/** The broker's own login to its controller listener (SASL/PLAIN, static in the server properties: SCRAM lives in the metadata the controller serves). */
export const KAFKA_CONTROLLER_USER = 'controller';

export function kafkaSecurity(env: NodeJS.ProcessEnv = process.env): KafkaSecurity {
  const raw = (env[KAFKA_SECURITY_ENV] ?? '').trim();
  // SASL unless asked otherwise: the broker enforces single writer (ADR 0017); plaintext is an explicit opt-out.
  if (raw === '' || raw === 'sasl') return 'sasl';
  if (raw === 'plaintext') return 'plaintext';
  throw new Error(`${KAFKA_SECURITY_ENV}=${raw} is not a Kafka security mode: expected "sasl" or "plaintext"`);
}

export interface KafkaUserSecret {
  readonly username: string;
  readonly password: string;
}

/** What a SASL broker needs to start: the bootstrap admin's and the controller's passwords. */
export interface KafkaBrokerSecrets {
  readonly adminPassword: string;
  readonly controllerPassword: string;
}

/** Hex only: no character needs quoting in JAAS, in `--add-scram` or in the properties format. */
export function newKafkaPassword(): string {
  return randomBytes(24).toString('hex');
}

export function newKafkaBrokerSecrets(): KafkaBrokerSecrets {
  return { adminPassword: newKafkaPassword(), controllerPassword: newKafkaPassword() };
}

/**
 * The listener and authorizer lines of a SASL broker (one combined KRaft node on loopback). Clients and the broker's
 * inter-broker traffic use SCRAM-SHA-512; the controller listener uses PLAIN with a static user, because a KRaft
 * controller cannot check SCRAM credentials it serves itself. Everything is denied without an ACL, except to the
 * super users: the bootstrap admin and the controller login.
 */
export function saslListenerProperties(options: { port: number; controllerPort: number; host: string; secrets: KafkaBrokerSecrets }): string[] {
  const { port, controllerPort, host, secrets } = options;
  return [
    `listeners=SASL_PLAINTEXT://${host}:${port},CONTROLLER://${host}:${controllerPort}`,
    `advertised.listeners=SASL_PLAINTEXT://${host}:${port}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=SASL_PLAINTEXT',
    'listener.security.protocol.map=SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT',
    'sasl.enabled.mechanisms=SCRAM-SHA-512',
    'sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512',
    'sasl.mechanism.controller.protocol=PLAIN',
    'listener.name.controller.sasl.enabled.mechanisms=PLAIN',
    `listener.name.controller.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="${KAFKA_CONTROLLER_USER}" password="${secrets.controllerPassword}" user_${KAFKA_CONTROLLER_USER}="${secrets.controllerPassword}";`,
    `listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="${KAFKA_ADMIN_USER}" password="${secrets.adminPassword}";`,
    'authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer',
    'allow.everyone.if.no.acl.found=false',
    `super.users=User:${KAFKA_ADMIN_USER};User:${KAFKA_CONTROLLER_USER}`,
  ];
}

/** `kafka.tools.StorageTool format` arguments that create the bootstrap admin with the storage (nobody could authenticate to create it later). */
export function scramFormatArguments(secrets: KafkaBrokerSecrets): string[] {
  return ['--add-scram', `SCRAM-SHA-512=[name=${KAFKA_ADMIN_USER},password=${secrets.adminPassword}]`];
}

export type ScramUserChange =
  { readonly action: 'upsert'; readonly username: string; readonly password: string } | { readonly action: 'delete'; readonly username: string };

const SCRAM_USERNAME = /^[A-Za-z0-9][A-Za-z0-9:._-]{0,199}$/;

/**
 * Creates, replaces (rotation) or deletes SCRAM-SHA-512 users through the Java Admin client
 * (`tools/kafka/ScramUsers.java` on the broker's jars). Passwords go over stdin, never into arguments or errors.
 */
export async function changeScramUsers(options: {
  readonly root: string;
  readonly kafkaLibs: string;
  readonly brokers: readonly string[];
  readonly admin: KafkaUserSecret;
  readonly changes: readonly ScramUserChange[];
}): Promise<void> {
  if (options.changes.length === 0) return;
  for (const change of options.changes) {
    if (!SCRAM_USERNAME.test(change.username)) throw new Error(`Kafka user name "${change.username}" is not valid: expected ${String(SCRAM_USERNAME)}`);
    if (change.action === 'upsert' && !/^[\x21-\x7e]{16,}$/.test(change.password)) {
      throw new Error(`the password of Kafka user "${change.username}" must be at least 16 printable ASCII characters without spaces`);
    }
  }
  const stdin = [
    `bootstrap.servers=${options.brokers.join(',')}`,
    'security.protocol=SASL_PLAINTEXT',
    'sasl.mechanism=SCRAM-SHA-512',
    `sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="${options.admin.username}" password="${options.admin.password}";`,
    'request.timeout.ms=30000',
    'default.api.timeout.ms=60000',
    '---',
    ...options.changes.map((change) => (change.action === 'upsert' ? `upsert\t${change.username}\t${change.password}` : `delete\t${change.username}`)),
    '',
  ].join('\n');
  const run = (): ReturnType<typeof runCommand> =>
    runCommand(
      'java',
      [
        // the admin client's INFO lines would bury the one line that matters
        '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn',
        `-Dlog4j2.configurationFile=${join(options.root, 'tools/kafka/log4j2-quiet.properties')}`,
        '-cp',
        `${options.kafkaLibs}/*`,
        join(options.root, 'tools/kafka/ScramUsers.java'),
      ],
      { input: stdin, timeoutMs: 180_000 },
    );
  let result = await run();
  // A broker restarted on its old data answers before it has loaded the SCRAM credentials from its metadata log, and
  // refuses the admin's login meanwhile (a clean-clone CI run met it once): the login is tried again for a while.
  for (let attempt = 1; result.code !== 0 && attempt < SCRAM_LOGIN_ATTEMPTS && result.stderr.includes('SaslAuthenticationException'); attempt += 1) {
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    result = await run();
  }
  if (result.code !== 0) {
    throw new Error(
      `creating Kafka users (${options.changes.map((c) => `${c.action} ${c.username}`).join(', ')}) failed: ${redact(result.stderr, options).slice(-2_000)}`,
    );
  }
}

/** How often the admin's login is tried while a restarted broker loads its credentials. */
const SCRAM_LOGIN_ATTEMPTS = 8;

/** Removes every password the call knows of from a text (a tool's output may quote its input). */
function redact(text: string, options: { admin: KafkaUserSecret; changes: readonly ScramUserChange[] }): string {
  const secrets = [options.admin.password, ...options.changes.flatMap((change) => (change.action === 'upsert' ? [change.password] : []))];
  return secrets.reduce((redacted, secret) => redacted.split(secret).join('***'), text);
}

/**
 * The local dev file of a SASL broker's secrets (`.grantline/kafka-sasl/credentials.json`, owner-only, gitignored with
 * `.grantline/`): the bootstrap admin's and the controller's passwords and one random password per principal. The
 * only place they are written; the harness exports its path (GRANTLINE_KAFKA_CREDENTIALS), never its content, except
 * the admin login that specs use (KAFKA_SASL_USERNAME / KAFKA_SASL_PASSWORD, like KAFKA_BROKERS).
 */
export const kafkaCredentialsSchema = z.strictObject({
  adminPassword: z.string().regex(/^[0-9a-f]{32,}$/, 'hex, at least 32 characters'),
  controllerPassword: z.string().regex(/^[0-9a-f]{32,}$/, 'hex, at least 32 characters'),
  users: z.record(z.string().regex(SCRAM_USERNAME), z.string().regex(/^[0-9a-f]{32,}$/, 'hex, at least 32 characters')),
});
export type KafkaCredentials = z.infer<typeof kafkaCredentialsSchema>;

/** Env variable naming the credentials file (a path, never a secret). */
export const KAFKA_CREDENTIALS_ENV = 'GRANTLINE_KAFKA_CREDENTIALS';

export function kafkaCredentialsFile(paths: InfraPaths): string {
  return join(paths.data, 'kafka-sasl', 'credentials.json');
}

export function readKafkaCredentials(file: string): KafkaCredentials {
  const parsed = kafkaCredentialsSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  // the issues name fields, never values
  if (!parsed.success) throw new Error(`${file} is not a Grantline Kafka credentials file: ${parsed.error.issues.map((i) => i.path.join('.')).join(', ')}`);
  return parsed.data;
}

/** Reads the file, or creates it; gives every user in `usernames` a password (new ones random). Returns what it added. */
export function ensureKafkaCredentials(file: string, usernames: readonly string[]): { credentials: KafkaCredentials; added: string[] } {
  const current: KafkaCredentials = existsSync(file) ? readKafkaCredentials(file) : { ...newKafkaBrokerSecrets(), users: {} };
  const added = usernames.filter((name) => current.users[name] === undefined);
  if (added.length === 0 && existsSync(file)) return { credentials: current, added };
  const credentials: KafkaCredentials = { ...current, users: { ...current.users, ...Object.fromEntries(added.map((name) => [name, newKafkaPassword()])) } };
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const partial = `${file}.partial`;
  writeFileSync(partial, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
  chmodSync(partial, 0o600);
  renameSync(partial, file);
  return { credentials, added };
}

/**
 * The connectors of a local deployment (apps/connector-postgres, apps/connector-kafka-acl, apps/connector-ldap, apps/connector-scim with their default ids): their
 * principals exist on the local broker and `npm start` provisions their topics and ACLs.
 */
export const LOCAL_CONNECTORS: readonly { readonly id: string; readonly service: string }[] = [
  { id: 'postgres', service: 'connector-postgres' },
  { id: 'kafka-acl', service: 'connector-kafka-acl' },
  { id: 'ldap', service: 'connector-ldap' },
  { id: 'credentials', service: 'connector-credentials' },
  { id: 'scim', service: 'connector-scim' },
];

/**
 * Every principal of a local deployment, as `kafkaAclPlan({ connectors: LOCAL_CONNECTORS }).principals` names them
 * (kafka-security.spec.ts holds the two equal). A list here, not a call: jest's global setup loads this file without
 * the workspace's path aliases, so the harness imports no other lib.
 */
export const LOCAL_KAFKA_PRINCIPALS: readonly string[] = [
  'approval',
  'audit',
  'intake',
  'notifier',
  'policy',
  'provisioning',
  'scheduler',
  'connector:postgres',
  'connector:kafka-acl',
  'connector:ldap',
  'connector:credentials',
  'connector:scim',
  'itsm-upstream',
];

export function localKafkaPrincipals(): string[] {
  return [...LOCAL_KAFKA_PRINCIPALS];
}
