// Scenario: just-in-time Kafka access for a service account. The account (a SCRAM user of its own) cannot produce to
// jit.orders; it asks for jit-orders-produce for ten minutes, its owner of record approves, the Kafka ACL connector
// creates the ACL on the broker and its produce succeeds; at expiry (the scheduler's test clock jumps past it) the
// ACL is deleted and the same produce is refused by the broker's authorizer again.
import { registry } from '@grantline/contracts';
import { KafkaAclAdmin, KafkaMessageBus, kafkaSaslCredentials, kafkaSaslFromEnv, probeProduce, silentLogger } from '@grantline/messaging';
import type { KafkaSaslCredentials, ProduceProbeOutcome } from '@grantline/messaging';
import { changeScramUsers, ensureKafkaCredentials, ensureKafkaLibs, eventually, infraPaths, newKafkaPassword } from '@grantline/testing';
import type { ApprovalRequestView, GrantlineClient } from './grantline.client';
import { SCENARIO_TIMEOUT_MS, START_TIMEOUT_MS } from './platform.fixture';
import type { Platform } from './platform.fixture';
import { ScenarioHarness } from './scenario.harness';

const WAIT = { timeoutMs: 60_000, intervalMs: 100 };
/** catalog/entitlements.yaml: jit-orders-produce = topic:jit.orders:write on the event-streams system (connector kafka-acl). */
const TOPIC = 'jit.orders';
const brokers = (process.env['KAFKA_BROKERS'] ?? '').split(',').filter(Boolean);

// Kafka principals the scenario needs on the local SASL broker, made through the harness's admin facilities: the
// bootstrap admin (KAFKA_SASL_* exported by jest's global setup) sets SCRAM users with the broker's own Admin client.
const CREDENTIALS_ENV = 'GRANTLINE_KAFKA_CREDENTIALS';

/** On a plaintext broker (no GRANTLINE_KAFKA_CREDENTIALS) there are no principals to make, and no ACLs to prove. */
function brokerHasAcls(env: NodeJS.ProcessEnv = process.env): boolean {
  return (env[CREDENTIALS_ENV] ?? '') !== '';
}

/**
 * Makes sure these platform principals are in the local credentials file (a random password for a new one) and exist
 * on the broker, and creates each of `extraUsers` with a fresh random password (a service account of the scenario).
 * Returns the extra users' logins. Idempotent: a principal set again keeps its password.
 */
async function ensureKafkaPrincipals(platformPrincipals: readonly string[], extraUsers: readonly string[]): Promise<Map<string, KafkaSaslCredentials>> {
  const file = process.env[CREDENTIALS_ENV] ?? '';
  const admin = kafkaSaslFromEnv();
  if (file === '' || admin === undefined) throw new Error(`${CREDENTIALS_ENV} and KAFKA_SASL_* are not set: the scenario needs the SASL broker`);
  const { credentials } = ensureKafkaCredentials(file, platformPrincipals);
  const extra = new Map(extraUsers.map((username) => [username, kafkaSaslCredentials(username, newKafkaPassword())]));
  const paths = infraPaths();
  const kafkaLibs = await ensureKafkaLibs(paths, () => undefined);
  await changeScramUsers({
    root: paths.root,
    kafkaLibs,
    brokers,
    admin,
    changes: [
      ...platformPrincipals.map((username) => ({ action: 'upsert' as const, username, password: credentials.users[username] ?? '' })),
      ...[...extra.values()].map((login) => ({ action: 'upsert' as const, username: login.username, password: login.password })),
    ],
  });
  return extra;
}

async function removeKafkaUser(username: string): Promise<void> {
  const admin = kafkaSaslFromEnv();
  if (admin === undefined) return;
  const paths = infraPaths();
  await changeScramUsers({
    root: paths.root,
    kafkaLibs: await ensureKafkaLibs(paths, () => undefined),
    brokers,
    admin,
    changes: [{ action: 'delete', username }],
  });
}

describe('scenario: a service account gets JIT produce access to a Kafka topic, removed at expiry', () => {
  const scenario = new ScenarioHarness('kafkaacl', {
    services: ['intake', 'policy', 'approval', 'provisioning', 'scheduler', 'audit', 'connector-kafka-acl'],
    env: { provisioning: { PROVISIONING_CONNECTOR_IDS: 'kafka-acl' } },
  });
  let platform: Platform;
  let api: GrantlineClient;
  /** The service account's identity in Grantline, and its Kafka user (its `account` attribute). */
  let identity: string;
  let serviceAccount: string | undefined;
  let login: KafkaSaslCredentials;
  let ownerToken: string;
  let accountToken: string;
  let requestId: string;
  let grantId: string;
  const adminLogin = kafkaSaslFromEnv();
  /** The scenario's own view of the broker's ACLs (the bootstrap admin), not the connector's. */
  const acls = new KafkaAclAdmin({ clientId: 'e2e-kafka-acl-inspector', brokers, ...(adminLogin === undefined ? {} : { sasl: adminLogin }) });

  const produce = (): Promise<ProduceProbeOutcome> => probeProduce({ brokers, sasl: login, topic: TOPIC, value: `from ${serviceAccount}` });
  const aclsOfAccount = async (): Promise<string[]> =>
    (await acls.describeAcls({ principal: `User:${serviceAccount}` })).map((b) => `${b.operation} ${b.resourceType} ${b.resourceName} (${b.patternType})`);

  beforeAll(async () => {
    if (!brokerHasAcls()) throw new Error('this scenario proves refusals by the broker: it needs the SASL broker with ACLs (the default)');
    const suffix = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
    serviceAccount = `svc-orders-${suffix}`;
    // the connector's own principal (a platform principal of the local deployment) and the scenario's service account
    const logins = await ensureKafkaPrincipals(['connector:kafka-acl'], [serviceAccount]);
    login = logins.get(serviceAccount)!;
    // the target topic, as its team would have created it (the bootstrap admin from the environment)
    const admin = new KafkaMessageBus({ clientId: 'e2e-kafka-acl-topics', brokers, registry, logger: silentLogger });
    try {
      await admin.ensureTopics([{ topic: TOPIC, partitions: 1 }]);
    } finally {
      await admin.disconnect();
    }

    ({ platform, api } = await scenario.start());
    process.stdout.write(`scenario kafka-acl: platform ready in ${platform.startupMs} ms (logs: ${platform.logDir})\n`);
    const owner = `e2e_owner_${platform.runId}`;
    identity = `e2e_svc_${platform.runId}`;
    ownerToken = await platform.tokens.mint(owner);
    accountToken = await platform.tokens.mint(identity, { workload: true });
    await api.upsertHuman(owner);
    await api.upsertIdentity(identity, {
      kind: 'service_account',
      displayName: `E2E orders producer ${platform.runId}`,
      ownerId: owner,
      // its Kafka user: the connector grants to User:<account>. (`account.kafka-acl` would name it for this connector
      // only, but the intake's read model on FerretDB refuses an attribute key with a dot.)
      attributes: { account: serviceAccount },
    });
  }, START_TIMEOUT_MS);

  afterAll(async () => {
    await acls.disconnect();
    await scenario.close();
    // the service account's SCRAM user goes with the scenario (its ACL went at expiry)
    if (serviceAccount !== undefined)
      await removeKafkaUser(serviceAccount).catch((error: unknown) => console.warn(`could not remove Kafka user ${serviceAccount}: ${String(error)}`));
  }, START_TIMEOUT_MS);

  it(
    'cannot produce before the grant; after approval the ACL exists and its produce succeeds',
    async () => {
      await platform.withLogs(async () => {
        expect(await produce()).toMatchObject({ ok: false, kafkaErrorName: 'TOPIC_AUTHORIZATION_FAILED' });
        expect(await aclsOfAccount()).toEqual([]);

        requestId = await api.submitOk(accountToken, {
          subject: { id: identity, kind: 'service_account' },
          entitlementIds: ['jit-orders-produce'],
          justification: 'replay the orders backlog into jit.orders',
          duration: 'PT10M',
        });
        // write outside production by a machine identity: its owner of record approves (policies/humans.yaml nhi-nonprod-write)
        const taskId = await eventually(async () => {
          const answer = await api.approvalRequest(ownerToken, requestId);
          expect(answer.status).toBe(200);
          const view: ApprovalRequestView = answer.body;
          const task = view.tasks.find((candidate) => candidate.stageId === 'nhi_owner' && candidate.status === 'open');
          expect(task).toBeDefined();
          return task!.taskId;
        }, WAIT);
        expect(await produce()).toMatchObject({ ok: false, kafkaErrorName: 'TOPIC_AUTHORIZATION_FAILED' });
        expect((await api.decide(ownerToken, taskId, 'approve', 'backlog replay window')).status).toBe(200);

        const view = await eventually(api.requestInStatus(accountToken, requestId, 'provisioned'), WAIT);
        grantId = view.grants[0]!.grantId;
        expect(await aclsOfAccount()).toEqual([`write topic ${TOPIC} (literal)`]);
        await eventually(async () => expect(await produce()).toEqual({ ok: true }), WAIT);
      })();
    },
    SCENARIO_TIMEOUT_MS,
  );

  it(
    'at expiry (test clock) the ACL is deleted and the broker refuses its produce again',
    async () => {
      await platform.withLogs(async () => {
        const active = await eventually(api.grantActivated(grantId), WAIT);
        const expiresAt = new Date(active.grant.expiresAt ?? active.grant.plannedExpiresAt ?? '');
        expect(Number.isNaN(expiresAt.getTime())).toBe(false);
        expect(await produce()).toEqual({ ok: true });

        await api.advanceSchedulerPast(expiresAt);
        await eventually(async () => expect(await aclsOfAccount()).toEqual([]), WAIT);
        await eventually(async () => expect(await produce()).toMatchObject({ ok: false, kafkaErrorName: 'TOPIC_AUTHORIZATION_FAILED' }), WAIT);
        await eventually(api.requestInStatus(accountToken, requestId, 'revoked'), WAIT);
      })();
    },
    SCENARIO_TIMEOUT_MS,
  );
});
