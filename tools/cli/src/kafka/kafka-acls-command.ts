import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import { describeAclBinding, kafkaAclPlan, kafkaSaslFromEnv, provisionKafkaNamespace } from '@grantline/messaging';
import type { ConnectorDeployment, KafkaAclPlan, KafkaSaslCredentials, ProvisionedKafkaNamespace } from '@grantline/messaging';
import { LOCAL_CONNECTORS, changeScramUsers, ensureKafkaLibs, infraPaths, newKafkaPassword } from '@grantline/testing';
import type { ScramUserChange } from '@grantline/testing';
import { EXIT } from '../dlq/dlq-commands';
import type { Output } from '../output';

export interface KafkaAclsOptions {
  readonly print?: boolean;
  readonly apply?: boolean;
  /** `<id>=<service>`, e.g. `postgres=connector-postgres`; default: the local connectors. */
  readonly connector?: readonly string[];
  /** A JSON file `{ "users": { "<principal>": "<password>" } }`: missing principals get a random password, then every user is set on the broker. */
  readonly users?: string;
  /** Principals whose password is replaced by a new random one (in the users file and on the broker). */
  readonly rotate?: readonly string[];
}

const CONNECTOR_OPTION = /^([a-z0-9][a-z0-9_-]{0,99})=([a-z][a-z0-9-]{0,62})$/;

/** The usage problem of an invocation, or undefined. */
export function kafkaAclsUsageError(options: KafkaAclsOptions): string | undefined {
  if ((options.print === true) === (options.apply === true)) return 'give exactly one of --print and --apply';
  if (options.print === true && (options.users !== undefined || (options.rotate ?? []).length > 0)) return '--users and --rotate go with --apply';
  if ((options.rotate ?? []).length > 0 && options.users === undefined) return '--rotate needs --users <file> (where the new password is kept)';
  const bad = (options.connector ?? []).filter((value) => !CONNECTOR_OPTION.test(value));
  if (bad.length > 0) return `--connector ${bad.join(', ')}: expected <id>=<service>, e.g. postgres=connector-postgres`;
  return undefined;
}

export function connectorsOf(options: KafkaAclsOptions): ConnectorDeployment[] {
  if (options.connector === undefined || options.connector.length === 0) return [...LOCAL_CONNECTORS];
  return options.connector.map((value) => {
    const [, id = '', service = ''] = CONNECTOR_OPTION.exec(value) ?? [];
    return { id, service };
  });
}

/** `kafka acls --print`: the principals and every ACL of the deployment, one per line; connects to nothing. */
export function printKafkaAcls(plan: KafkaAclPlan, io: Output): number {
  for (const principal of plan.principals) io.out(`# principal User:${principal.name} (${principal.kind})\n`);
  for (const binding of plan.bindings) io.out(`${describeAclBinding(binding)}\n`);
  io.err(`${plan.principals.length} principal(s), ${plan.bindings.length} ACL(s)\n`);
  return EXIT.ok;
}

const usersFileSchema = z.object({ users: z.record(z.string(), z.string().regex(/^[\x21-\x7e]{16,}$/, 'at least 16 printable ASCII characters')) });

/**
 * The users file, with a random password for each principal it lacks and for each one rotated; written back
 * owner-only when anything changed. Returns the changes for the broker. Passwords never reach the output.
 */
export function usersFromFile(
  file: string,
  principals: readonly string[],
  rotate: readonly string[],
): { changes: ScramUserChange[]; added: string[]; rotated: string[] } {
  const unknown = rotate.filter((name) => !principals.includes(name));
  if (unknown.length > 0) throw new Error(`--rotate ${unknown.join(', ')}: not a principal of this deployment (${principals.join(', ')})`);
  let users: Record<string, string> = {};
  if (existsSync(file)) {
    const parsed = usersFileSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    if (!parsed.success) throw new Error(`${file}: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`);
    users = { ...parsed.data.users };
  }
  const added = principals.filter((name) => users[name] === undefined);
  for (const name of [...added, ...rotate]) users[name] = newKafkaPassword();
  if (added.length > 0 || rotate.length > 0 || !existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(`${file}.partial`, `${JSON.stringify({ users }, null, 2)}\n`, { mode: 0o600 });
    chmodSync(`${file}.partial`, 0o600);
    renameSync(`${file}.partial`, file);
  }
  return {
    changes: principals.map((username) => ({ action: 'upsert' as const, username, password: users[username] ?? '' })),
    added,
    rotated: [...rotate],
  };
}

export interface KafkaAclsDeps {
  readonly provision: (admin: KafkaSaslCredentials) => Promise<ProvisionedKafkaNamespace>;
  readonly setUsers: (admin: KafkaSaslCredentials, changes: readonly ScramUserChange[]) => Promise<void>;
}

/**
 * `kafka acls --apply`: as the bootstrap admin (KAFKA_SASL_USERNAME / KAFKA_SASL_PASSWORD), optionally sets the
 * principals' SCRAM users from a users file, then applies the deployment's ACLs and creates its catalogue topics.
 * Idempotent; prints counts and names, never a password.
 */
export async function applyKafkaAcls(options: KafkaAclsOptions, plan: KafkaAclPlan, env: NodeJS.ProcessEnv, deps: KafkaAclsDeps, io: Output): Promise<number> {
  const admin = kafkaSaslFromEnv(env);
  if (admin === undefined) {
    io.err('grantline: --apply needs the bootstrap admin login in KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD\n');
    return EXIT.usage;
  }
  if (options.users !== undefined) {
    const principals = plan.principals.map((principal) => principal.name);
    const { changes, added, rotated } = usersFromFile(options.users, principals, options.rotate ?? []);
    await deps.setUsers(admin, changes);
    io.out(
      `users: ${changes.length} set on the broker (${added.length} new${rotated.length > 0 ? `, rotated: ${rotated.join(', ')}` : ''}); passwords in ${options.users}\n`,
    );
  }
  const provisioned = await deps.provision(admin);
  io.out(
    `acls: ${provisioned.aclsCreated} created, ${plan.bindings.length - provisioned.aclsCreated} already present; topics: ${provisioned.topics.length} present\n`,
  );
  return EXIT.ok;
}

/** The real dependencies: the broker through the messaging lib, SCRAM users through the Kafka jars' Admin client. */
export function kafkaAclsDeps(brokers: readonly string[], namespace: string | undefined, connectors: readonly ConnectorDeployment[]): KafkaAclsDeps {
  return {
    provision: (admin) => provisionKafkaNamespace({ brokers, admin, connectors, ...(namespace === undefined ? {} : { namespace }) }),
    setUsers: async (admin, changes) => {
      const paths = infraPaths();
      const kafkaLibs = await ensureKafkaLibs(paths, (line) => void process.stderr.write(`${line}\n`));
      await changeScramUsers({ root: paths.root, kafkaLibs, brokers, admin, changes });
    },
  };
}

export function kafkaAclPlanFor(options: KafkaAclsOptions, namespace: string | undefined): KafkaAclPlan {
  return kafkaAclPlan({ connectors: connectorsOf(options), ...(namespace === undefined ? {} : { namespace }) });
}
