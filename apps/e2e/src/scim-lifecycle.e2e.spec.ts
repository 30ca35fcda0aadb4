// Scenario 12: people come from the identity provider over SCIM 2.0 (RFC 7644), never from themselves. An IdP (a
// workload with the identity-source role) creates alice with her manager (the enterprise extension) — a joiner who
// then gets access; a PATCH of her manager makes her a mover, whose next approval goes to the new manager; a group
// gives maria the security group; `active: false` makes alice a leaver, whose grants are revoked in PostgreSQL.
import { TOPICS } from '@grantline/contracts';
import type { IdentityUpsertedData } from '@grantline/contracts';
import { eventually } from '@grantline/testing';
import type { EventLogReader } from './event-log.reader';
import { GROUP_ROLES } from './grantline.client';
import type { GrantlineClient } from './grantline.client';
import { SCENARIO_TIMEOUT_MS, START_TIMEOUT_MS } from './platform.fixture';
import type { HttpAnswer, Platform } from './platform.fixture';
import type { PostgresTarget } from './postgres.helper';
import { ScenarioHarness } from './scenario.harness';

const WAIT = { timeoutMs: 90_000, intervalMs: 200 };
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

interface ScimUser {
  readonly id: string;
  readonly userName: string;
  readonly active: boolean;
  readonly meta: { readonly resourceType: string; readonly version?: string };
}

describe('scenario 12: joiner, mover and leaver through SCIM 2.0', () => {
  const scenario = new ScenarioHarness('scim', { groupRoles: [GROUP_ROLES['orders-staging-read'], GROUP_ROLES['orders-prod-read']], eventLog: true });
  let platform: Platform;
  let api: GrantlineClient;
  let pg: PostgresTarget;
  let log: EventLogReader;
  let alice: string;
  let maria: string;
  let bob: string;
  let aliceId: string;
  let grantId: string;

  const scim = async <T>(method: string, path: string, body?: unknown, token?: string): Promise<HttpAnswer<T>> =>
    platform.call<T>('intake', method, `/scim/v2${path}`, { token: token ?? (await api.tokenOf('identity-source')), ...(body === undefined ? {} : { body }) });
  const createUser = async (userName: string, manager?: string): Promise<ScimUser> => {
    const answer = await scim<ScimUser>('POST', '/Users', {
      schemas: [USER, ...(manager === undefined ? [] : [ENTERPRISE])],
      userName,
      name: { givenName: userName, familyName: 'E2E' },
      emails: [{ value: `${userName}@example.com`, type: 'work', primary: true }],
      active: true,
      ...(manager === undefined ? {} : { [ENTERPRISE]: { manager: { value: manager }, department: 'orders' } }),
    });
    expect(answer.status).toBe(201);
    return answer.body;
  };
  const upsertsOf = async (identityId: string): Promise<IdentityUpsertedData[]> =>
    (await log.read([TOPICS.identities]))
      .filter((event) => event.type === 'iga.identity.upserted.v1' && event.subject === identityId)
      .map((event) => event.data as IdentityUpsertedData);

  beforeAll(async () => {
    ({ platform, api, pg, log } = await scenario.start());
    alice = `e2e_alice_${platform.runId}`;
    maria = `e2e_maria_${platform.runId}`;
    bob = `e2e_bob_${platform.runId}`;
    await pg.createLogin(alice);
  }, START_TIMEOUT_MS);

  afterAll(() => scenario.close(), START_TIMEOUT_MS);

  it(
    'a joiner: alice is created with her manager and gets access',
    async () => {
      await platform.withLogs(async () => {
        await createUser(maria);
        await createUser(bob);
        const created = await createUser(alice, maria);
        aliceId = created.id;
        expect(created).toMatchObject({ userName: alice, active: true, meta: { resourceType: 'User' } });
        // RFC 7644 §3.4.2.2: a filter finds her by userName; a duplicate userName is a uniqueness error.
        const found = await scim<{ totalResults: number; Resources: ScimUser[] }>('GET', `/Users?filter=${encodeURIComponent(`userName eq "${alice}"`)}`);
        expect(found.body).toMatchObject({ totalResults: 1, Resources: [expect.objectContaining({ id: aliceId })] });
        const duplicate = await scim<{ status: string; scimType?: string }>('POST', '/Users', { schemas: [USER], userName: alice });
        expect(duplicate.status).toBe(409);
        expect(duplicate.body).toMatchObject({ status: '409', scimType: 'uniqueness' });
        // alice herself cannot write to SCIM.
        const asAlice = await scim('POST', '/Users', { schemas: [USER], userName: `${alice}_twin` }, await platform.tokens.mint(alice));
        expect(asAlice.status).toBe(403);

        await eventually(
          async () => expect((await upsertsOf(alice)).at(-1)?.identity).toMatchObject({ kind: 'human', managerId: maria, sourceSystem: 'scim' }),
          WAIT,
        );
        const token = await platform.tokens.mint(alice);
        const requestId = await api.submitOk(token, {
          subject: { id: alice, kind: 'human' },
          entitlementIds: ['orders-staging-read'],
          justification: 'first day: read the staging orders',
          duration: 'PT8H',
        });
        const provisioned = await eventually(api.requestInStatus(token, requestId, 'provisioned'), WAIT);
        grantId = provisioned.grants[0]!.grantId;
        expect(await pg.isMember(alice, GROUP_ROLES['orders-staging-read'])).toBe(true);
      })();
    },
    SCENARIO_TIMEOUT_MS,
  );

  it(
    'a mover: a PATCH of her manager routes her next approval to bob',
    async () => {
      await platform.withLogs(async () => {
        const patched = await scim<ScimUser>('PATCH', `/Users/${aliceId}`, {
          schemas: [PATCH_OP],
          Operations: [{ op: 'replace', path: `${ENTERPRISE}:manager`, value: { value: bob } }],
        });
        expect(patched.status).toBe(200);
        await eventually(async () => expect((await upsertsOf(alice)).at(-1)?.identity).toMatchObject({ managerId: bob }), WAIT);
        const token = await platform.tokens.mint(alice);
        const prod = await api.submitOk(token, {
          subject: { id: alice, kind: 'human' },
          entitlementIds: ['orders-prod-read'],
          justification: 'new team: read production orders',
          duration: 'PT4H',
        });
        await eventually(async () => {
          const view = await api.approvalRequest(token, prod);
          expect(view.body.tasks.find((task) => task.stageId === 'manager')?.eligibleApproverIds).toEqual([bob]);
        }, WAIT);
      })();
    },
    SCENARIO_TIMEOUT_MS,
  );

  it(
    'a group: maria joins the security group through /Groups',
    async () => {
      await platform.withLogs(async () => {
        const mariaUser = (await scim<{ Resources: ScimUser[] }>('GET', `/Users?filter=${encodeURIComponent(`userName eq "${maria}"`)}`)).body.Resources[0]!;
        const group = await scim<{ id: string }>('POST', '/Groups', {
          schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
          displayName: 'security',
          members: [{ value: mariaUser.id }],
        });
        expect(group.status).toBe(201);
        await eventually(async () => expect((await upsertsOf(maria)).at(-1)?.identity.attributes).toMatchObject({ groups: 'security' }), WAIT);
      })();
    },
    SCENARIO_TIMEOUT_MS,
  );

  it(
    'a leaver: active false offboards alice and her access is revoked in PostgreSQL',
    async () => {
      await platform.withLogs(async () => {
        const deactivated = await scim<ScimUser>('PATCH', `/Users/${aliceId}`, {
          schemas: [PATCH_OP],
          Operations: [{ op: 'replace', value: { active: false } }],
        });
        expect(deactivated.status).toBe(200);
        expect(deactivated.body.active).toBe(false);
        const offboarded = await eventually(async () => {
          const event = (await log.read([TOPICS.identities])).find(
            (candidate) => candidate.type === 'iga.identity.offboarded.v1' && candidate.subject === alice,
          );
          expect(event).toBeDefined();
          return event!;
        }, WAIT);
        expect(offboarded.data).toMatchObject({ identityId: alice, kind: 'human', reason: 'leaver' });
        await eventually(async () => expect(await pg.isMember(alice, GROUP_ROLES['orders-staging-read'])).toBe(false), WAIT);
        const explanation = await eventually(api.grantEnded(grantId, 'offboarding'), WAIT);
        expect(explanation.ending?.at).toBeDefined();
      })();
    },
    SCENARIO_TIMEOUT_MS,
  );
});
