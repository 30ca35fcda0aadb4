// Scenario 4: a service account asks for broad write access in production without a declared scope over that
// system. Policy denies it with a least-privilege reason, and nothing is provisioned: no grant on the log, no
// membership in PostgreSQL, although provisioning and the connector are running.
import { TOPICS, grantIdOf } from '@grantline/contracts';
import { eventually } from '@grantline/testing';
import type { EventLogReader } from './event-log.reader';
import { GROUP_ROLES } from './grantline.client';
import type { GrantlineClient } from './grantline.client';
import { SCENARIO_TIMEOUT_MS, START_TIMEOUT_MS } from './platform.fixture';
import type { Platform } from './platform.fixture';
import type { PostgresTarget } from './postgres.helper';
import { ScenarioHarness } from './scenario.harness';

const WAIT = { timeoutMs: 60_000, intervalMs: 100 };
const ROLE = GROUP_ROLES['orders-prod-write'];

interface TimelineEntry {
  readonly type: string;
  readonly details: Readonly<Record<string, unknown>>;
}

describe('scenario 4: broad production write by a service account is denied on least privilege', () => {
  // No scheduler: nothing here waits for time.
  const scenario = new ScenarioHarness('leastprivilege', {
    services: ['intake', 'policy', 'approval', 'provisioning', 'audit', 'connector-postgres'],
    groupRoles: [ROLE, GROUP_ROLES['orders-staging-read']],
    eventLog: true,
  });
  let platform: Platform;
  let api: GrantlineClient;
  let pg: PostgresTarget;
  let log: EventLogReader;
  let account: string;
  let ownerToken: string;

  beforeAll(async () => {
    ({ platform, api, pg, log } = await scenario.start());
    account = `e2e_sa_${platform.runId}`;
    const owner = `e2e_owner_${platform.runId}`;
    await pg.createLogin(account);
    ownerToken = await platform.tokens.mint(owner);
    await api.upsertHuman(owner);
    await api.upsertIdentity(account, { kind: 'service_account', displayName: `E2E ${account}`, ownerId: owner, platform: 'kubernetes' });
  }, START_TIMEOUT_MS);

  afterAll(() => scenario.close(), START_TIMEOUT_MS);

  it(
    'is denied by policy with the least-privilege reason, and nothing is provisioned',
    async () => {
      await platform.withLogs(async () => {
        // The owner of record asks on the account's behalf, as a pipeline's maintainer would.
        const requestId = await api.submitOk(ownerToken, {
          subject: { id: account, kind: 'service_account' },
          entitlementIds: ['orders-prod-write'],
          justification: 'nightly data fix job writes to the orders tables',
          duration: 'PT4H',
        });

        const decision = await eventually(async () => {
          const timeline = await platform.call<{ status: string; entries: readonly TimelineEntry[] }>(
            'audit',
            'GET',
            `/v1/audit/requests/${requestId}/timeline`,
            { token: await api.tokenOf('auditor') },
          );
          expect(timeline.status).toBe(200);
          expect(timeline.body.status).toBe('denied');
          const entry = timeline.body.entries.find((candidate) => candidate.type === 'iga.policy.decision-recorded.v2');
          expect(entry).toBeDefined();
          return entry!;
        }, WAIT);
        expect(decision.details).toMatchObject({ effect: 'deny', matchedRules: expect.arrayContaining(['sa-least-privilege-scope']) });
        expect((decision.details['reasons'] as readonly string[]).join(' ')).toMatch(/least privilege/);
        await eventually(api.requestInStatus(ownerToken, requestId, 'denied'), WAIT);

        // The control: provisioning and the connector are live and past the denial — the owner's own auto-approved
        // staging read, asked for after it, reaches PostgreSQL. Only then is "nothing provisioned" worth checking.
        const owner = `e2e_owner_${platform.runId}`;
        await pg.createLogin(owner);
        await api.submitOk(ownerToken, {
          subject: { id: owner, kind: 'human' },
          entitlementIds: ['orders-staging-read'],
          justification: 'check the staging copy of the orders tables',
          duration: 'PT1H',
        });
        await eventually(async () => expect(await pg.isMember(owner, GROUP_ROLES['orders-staging-read'])).toBe(true), WAIT);

        // Nothing provisioned: no event about this request's grant on the grants topic, no membership in PostgreSQL.
        const grantId = grantIdOf(requestId, 'orders-prod-write');
        const grantEvents = (await log.read([TOPICS.grants])).filter((event) => (event.data as { grantId?: unknown }).grantId === grantId);
        expect(grantEvents).toEqual([]);
        expect(await pg.groupsOf(account)).toEqual([]);
      })();
    },
    SCENARIO_TIMEOUT_MS,
  );
});
