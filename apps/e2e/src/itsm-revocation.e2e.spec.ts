// Scenario 7: an upstream ticket asks for a revocation. A ServiceNow requested item (the sc_req_item record as
// ServiceNow sends it) published on the inbound ITSM topic gives a developer staging access (its ticket hears `provisioned` only once the role is in PostgreSQL); a second
// ticket then asks for that access to be removed, and the status topic says `revoked` only after the membership is
// gone from PostgreSQL: a ticket closes on enforced access, not on intent.
import { randomBytes, randomUUID } from 'node:crypto';
import { ItsmServiceNowItemReceived, TOPICS, registry } from '@grantline/contracts';
import type { Envelope, ItsmStatusChangedData, ServiceNowCatalogItem } from '@grantline/contracts';
import { eventually } from '@grantline/testing';
import type { EventLogReader } from './event-log.reader';
import { GROUP_ROLES } from './grantline.client';
import type { GrantlineClient } from './grantline.client';
import { SCENARIO_TIMEOUT_MS, START_TIMEOUT_MS } from './platform.fixture';
import type { Platform } from './platform.fixture';
import type { PostgresTarget } from './postgres.helper';
import { ScenarioHarness } from './scenario.harness';

const WAIT = { timeoutMs: 60_000, intervalMs: 50 };
const ROLE = GROUP_ROLES['orders-staging-read'];

describe('scenario 7: an upstream ticket asks for revocation; the status says revoked only once PostgreSQL agrees', () => {
  const scenario = new ScenarioHarness('itsmrevoke', { groupRoles: [ROLE], eventLog: true });
  let platform: Platform;
  let api: GrantlineClient;
  let pg: PostgresTarget;
  let log: EventLogReader;
  let developer: string;
  let developerToken: string;
  let accessTicket: { system: 'servicenow'; id: string };
  let revocationTicket: { system: 'servicenow'; id: string };
  let requestId: string;
  let grantId: string;

  const statusesOf = async (ticketId: string): Promise<Envelope<ItsmStatusChangedData>[]> =>
    (await log.read([TOPICS.itsmStatus])).filter((event) => (event.data as ItsmStatusChangedData).ticket.id === ticketId) as Envelope<ItsmStatusChangedData>[];

  beforeAll(async () => {
    ({ platform, api, pg, log } = await scenario.start());
    developer = `e2e_dev_${platform.runId}`;
    // ServiceNow numbers are letters then digits (RITM0012345).
    accessTicket = { system: 'servicenow', id: `RITM${String(Date.now()).slice(-10)}` };
    revocationTicket = { system: 'servicenow', id: `RITM-${platform.runId}-2` };
    await pg.createLogin(developer);
    // Tickets are authorised like API calls by the person they name: the developer is a known person, and the removal
    // request is the developer's own (a beneficiary may give up their access), carried with the ticket reference.
    developerToken = await platform.tokens.mint(developer);
    await api.upsertHuman(developer, `e2e_mgr_${platform.runId}`);
  }, START_TIMEOUT_MS);

  afterAll(() => scenario.close(), START_TIMEOUT_MS);

  it(
    'provisions a ticket from the inbound topic, and the ticket hears provisioned only with the role in PostgreSQL',
    async () => {
      await platform.withLogs(async () => {
        const item: ServiceNowCatalogItem = {
          sys_id: randomBytes(16).toString('hex'),
          number: accessTicket.id,
          cat_item: { value: 'grantline-access', display_value: 'Request access (Grantline)' },
          requested_for: { value: developer, display_value: 'E2E developer' },
          opened_by: developer,
          variables: { entitlements: 'orders-staging-read', justification: 'reproduce the staging checkout bug', duration: '8' },
        };
        const eventId = randomUUID();
        await log.publishAsUpstream(TOPICS.itsmInbound, [
          registry.encode(ItsmServiceNowItemReceived, item, {
            id: eventId,
            source: 'servicenow/e2e',
            time: new Date().toISOString(),
            subject: accessTicket.id,
            correlationid: accessTicket.id,
            actor: { kind: 'service', id: 'servicenow-bridge' },
          }),
        ]);

        const provisioned = await eventually(async () => {
          const statuses = await statusesOf(accessTicket.id);
          const done = statuses.find((event) => event.data.status === 'provisioned');
          expect(done).toBeDefined();
          return done!;
        }, WAIT);
        // Checked the moment the ticket hears it, not eventually: the access must already be there.
        expect(await pg.isMember(developer, ROLE)).toBe(true);
        requestId = provisioned.data.requestId ?? '';
        const statuses = (await statusesOf(accessTicket.id)).map((event) => event.data.status);
        expect(statuses[0]).toBe('received');
        expect(statuses).toContain('approved');
        expect(statuses.indexOf('provisioned')).toBeGreaterThan(statuses.indexOf('approved'));

        const view = await api.request(developerToken, requestId);
        expect(view).toMatchObject({ status: 'provisioned' });
        grantId = view.grants[0]!.grantId;
      })();
    },
    SCENARIO_TIMEOUT_MS,
  );

  it(
    'removes the access in PostgreSQL before the revocation ticket hears revoked',
    async () => {
      await platform.withLogs(async () => {
        const asked = await platform.call('intake', 'POST', `/v1/grants/${encodeURIComponent(grantId)}/revoke`, {
          token: developerToken,
          body: { reason: 'access no longer needed (ServiceNow removal request)', ticket: revocationTicket },
        });
        expect(asked.status).toBe(202);

        const revoked = await eventually(async () => {
          const done = (await statusesOf(revocationTicket.id)).find((event) => event.data.status === 'revoked');
          expect(done).toBeDefined();
          return done!;
        }, WAIT);
        // The moment the ticket hears `revoked`, PostgreSQL no longer has the membership.
        expect(await pg.isMember(developer, ROLE)).toBe(false);

        // And on the log, that status follows (and is caused by) provisioning's record of the enforced revocation.
        const grantEvents = await log.read([TOPICS.grants]);
        const grantRevoked = grantEvents.find((event) => event.type === 'iga.grant.revoked.v1' && (event.data as { grantId: string }).grantId === grantId);
        expect(grantRevoked).toBeDefined();
        expect(revoked.causationid).toBe(grantRevoked!.id);
        expect(Date.parse(revoked.time)).toBeGreaterThanOrEqual(Date.parse(grantRevoked!.time));

        // The original ticket follows its request to the end too.
        await eventually(async () => expect((await statusesOf(accessTicket.id)).map((event) => event.data.status)).toContain('revoked'), WAIT);
        const explanation = await eventually(api.grantEnded(grantId, 'revocation'), WAIT);
        expect(explanation.missing).toEqual([]);
      })();
    },
    SCENARIO_TIMEOUT_MS,
  );
});
