// Scenario: a person asks to join the sales team in the CRM, a SaaS application provisioned over SCIM 2.0 (locally
// tools/scim-target, SCIMMY on express, in its own process). Policy auto-approves it (low-sensitivity non-production
// read), the SCIM connector adds the person's user to the group by PATCH (read back through the application's own
// SCIM API), the person gives the access back (a revocation request), and the member is gone from the group. A second
// person leaves (offboarded through the identity-source API): the membership is revoked and, because the catalogue says
// the CRM deactivates leavers' accounts (docs/adr/0036), the SCIM user is set `active: false`, read back over SCIM.
import { TOPICS, connectorResultsTopic } from '@grantline/contracts';
import { eventually } from '@grantline/testing';
import type { EventLogReader } from './event-log.reader';
import type { GrantlineClient } from './grantline.client';
import { SCENARIO_TIMEOUT_MS, START_TIMEOUT_MS } from './platform.fixture';
import type { Platform } from './platform.fixture';
import { ScenarioHarness } from './scenario.harness';

const WAIT = { timeoutMs: 60_000, intervalMs: 100 };
/** catalog/entitlements.yaml: crm-sales-members on crm-sandbox (connector scim), externalRef = the group's displayName. */
const GROUP = 'grantline-crm-sales';

/** The application's SCIM API, as jest's global setup exported it (SCIM_URL, SCIM_BEARER_TOKEN). */
/** The parts of the application's SCIM answers the scenario reads. */
interface ScimAnswer {
  status: number;
  body: { id?: string; active?: boolean; members?: { value: string }[]; Resources?: { id: string }[] };
}

async function scim(method: string, path: string, body?: unknown): Promise<ScimAnswer> {
  const url = process.env['SCIM_URL'];
  const token = process.env['SCIM_BEARER_TOKEN'];
  if (!url || !token) throw new Error('SCIM_URL / SCIM_BEARER_TOKEN are not set: jest global setup starts the SCIM target and exports them');
  const response = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: (text === '' ? {} : JSON.parse(text)) as ScimAnswer['body'] };
}

async function idOf(path: '/Groups' | '/Users', attribute: string, value: string): Promise<string | undefined> {
  const answer = await scim('GET', `${path}?filter=${encodeURIComponent(`${attribute} eq "${value}"`)}`);
  expect(answer.status).toBe(200);
  return answer.body.Resources?.[0]?.id;
}

async function create(path: '/Groups' | '/Users', resource: Record<string, unknown>): Promise<string> {
  const schema = `urn:ietf:params:scim:schemas:core:2.0:${path === '/Users' ? 'User' : 'Group'}`;
  const answer = await scim('POST', path, { schemas: [schema], ...resource });
  if (answer.status !== 201 || answer.body.id === undefined) throw new Error(`POST ${path} answered ${answer.status}`);
  return answer.body.id;
}

describe('scenario: a SCIM 2.0 group membership in a SaaS application, provisioned and revoked through the lifecycle', () => {
  const scenario = new ScenarioHarness('scimout', {
    services: ['intake', 'policy', 'approval', 'provisioning', 'connector-scim'],
    env: { provisioning: { PROVISIONING_CONNECTOR_IDS: 'scim' } },
    eventLog: true,
  });
  let platform: Platform;
  let api: GrantlineClient;
  let log: EventLogReader;
  let leaver: string;
  let leaverUserId: string;
  let person: string;
  let userId: string;
  let groupId: string;
  let token: string;
  let requestId: string;
  let grantId: string;

  const members = async (): Promise<string[]> => ((await scim('GET', `/Groups/${groupId}`)).body.members ?? []).map((member) => member.value);

  beforeAll(async () => {
    ({ platform, api, log } = await scenario.start());
    // The application seeds the group; the person's user exists in it already (Grantline manages membership only).
    groupId = (await idOf('/Groups', 'displayName', GROUP)) ?? (await create('/Groups', { displayName: GROUP }));
    person = `e2e_seller_${platform.runId}`;
    userId = await create('/Users', { userName: person, active: true });
    token = await platform.tokens.mint(person);
    await api.upsertHuman(person, `e2e_manager_${platform.runId}`);
    leaver = `e2e_leaver_${platform.runId}`;
    leaverUserId = await create('/Users', { userName: leaver, active: true });
    await api.upsertHuman(leaver, `e2e_manager_${platform.runId}`);
  }, START_TIMEOUT_MS);

  afterAll(async () => {
    if (userId !== undefined) await scim('DELETE', `/Users/${userId}`).catch(() => undefined);
    if (leaverUserId !== undefined) await scim('DELETE', `/Users/${leaverUserId}`).catch(() => undefined);
    await scenario.close();
  }, START_TIMEOUT_MS);

  it(
    'is auto-approved and provisioned: the group lists the person as a member through the SCIM API',
    async () => {
      await platform.withLogs(async () => {
        expect(await members()).not.toContain(userId);
        const submittedAt = performance.now();
        requestId = await api.submitOk(token, {
          subject: { id: person, kind: 'human' },
          entitlementIds: ['crm-sales-members'],
          justification: 'cover the sales pipeline while a colleague is away',
          duration: 'P7D',
        });
        await eventually(async () => expect(await members()).toContain(userId), WAIT);
        process.stdout.write(`scim scenario: submit -> member through the SCIM API: ${(performance.now() - submittedAt).toFixed(0)} ms\n`);

        const view = await eventually(api.requestInStatus(token, requestId, 'provisioned'), WAIT);
        expect(view.grants).toEqual([expect.objectContaining({ entitlementId: 'crm-sales-members', state: 'active' })]);
        grantId = view.grants[0]!.grantId;
      })();
    },
    SCENARIO_TIMEOUT_MS,
  );

  it(
    'is revoked on request: the member is gone from the group and the request says revoked',
    async () => {
      await platform.withLogs(async () => {
        const asked = await platform.call('intake', 'POST', `/v1/grants/${encodeURIComponent(grantId)}/revoke`, {
          token,
          body: { reason: 'colleague is back' },
        });
        expect(asked.status).toBe(202);
        await eventually(async () => expect(await members()).not.toContain(userId), WAIT);
        await eventually(api.requestInStatus(token, requestId, 'revoked'), WAIT);
      })();
    },
    SCENARIO_TIMEOUT_MS,
  );

  it(
    'deactivates a leaver: offboarding removes the membership and sets the SCIM user active: false, with the facts on the log',
    async () => {
      await platform.withLogs(async () => {
        const leaverToken = await platform.tokens.mint(leaver);
        const leaverRequest = await api.submitOk(leaverToken, {
          subject: { id: leaver, kind: 'human' },
          entitlementIds: ['crm-sales-members'],
          justification: 'work the sales pipeline',
          duration: 'P7D',
        });
        await eventually(async () => expect(await members()).toContain(leaverUserId), WAIT);
        await eventually(api.requestInStatus(leaverToken, leaverRequest, 'provisioned'), WAIT);
        expect((await scim('GET', `/Users/${leaverUserId}`)).body.active).toBe(true);

        const offboarded = await platform.call('intake', 'POST', `/v1/identities/${leaver}/offboard`, {
          token: await api.tokenOf('identity-source'),
          body: { reason: 'leaver' },
        });
        expect(offboarded.status).toBe(202);

        await eventually(async () => expect(await members()).not.toContain(leaverUserId), WAIT);
        await eventually(async () => expect((await scim('GET', `/Users/${leaverUserId}`)).body.active).toBe(false), WAIT);
        await eventually(api.requestInStatus(leaverToken, leaverRequest, 'revoked'), WAIT);
        // The person who gave the access back earlier has not left: their user stays active.
        expect((await scim('GET', `/Users/${userId}`)).body.active).toBe(true);

        // The facts: asked once of the SCIM connector, keyed by the identity, answered and recorded.
        await eventually(async () => {
          const ofLeaver = (await log.read([TOPICS.grants, connectorResultsTopic('scim')])).filter(
            (event) => (event.data as { identityId?: string }).identityId === leaver,
          );
          expect(ofLeaver.map((event) => event.type).sort()).toEqual(
            ['iga.connector.account-deactivated.v1', 'iga.grant.account-deactivated.v1', 'iga.grant.account-deactivation-requested.v1'].sort(),
          );
          expect(ofLeaver.every((event) => event.subject === leaver)).toBe(true);
          expect(ofLeaver.find((event) => event.type === 'iga.grant.account-deactivation-requested.v1')?.data).toMatchObject({
            connectorId: 'scim',
            targetAccount: leaver,
            reason: 'offboarding',
            attempt: 1,
          });
        }, WAIT);
      })();
    },
    SCENARIO_TIMEOUT_MS,
  );
});
