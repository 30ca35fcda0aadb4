// Scenario: a person asks for the wiki readers' directory group. Policy auto-approves it (low-sensitivity
// non-production read), the LDAP connector adds the person's DN to the groupOfNames in OpenLDAP (read back with
// ldapsearch, the directory's own tool), the person gives the access back (a revocation request), and the member is
// gone from the group in ldapsearch before the request says revoked. A member an administrator adds by hand with
// ldapmodify is reported as drift by reconciliation (the connector's paged state report).
import { TOPICS } from '@grantline/contracts';
import type { DriftDetectedData, Envelope } from '@grantline/contracts';
import { ensureOpenldap, eventually } from '@grantline/testing';
import type { EventLogReader } from './event-log.reader';
import type { GrantlineClient } from './grantline.client';
import { LdapTarget } from './ldap.helper';
import { SCENARIO_TIMEOUT_MS, START_TIMEOUT_MS } from './platform.fixture';
import type { Platform } from './platform.fixture';
import { ScenarioHarness } from './scenario.harness';

const WAIT = { timeoutMs: 60_000, intervalMs: 100 };
/** catalog/entitlements.yaml: wiki-readers on directory-groups (connector ldap), externalRef = the group's cn. */
const GROUP = 'grantline-wiki-readers';

describe('scenario: an LDAP group membership granted and revoked through the lifecycle, seen with ldapsearch', () => {
  const scenario = new ScenarioHarness('ldapgroup', {
    services: ['intake', 'policy', 'approval', 'provisioning', 'connector-ldap'],
    eventLog: true,
    // a short period so the drift test need not wait an hour
    env: { provisioning: { PROVISIONING_CONNECTOR_IDS: 'ldap', PROVISIONING_RECONCILE_EVERY: 'PT2S' } },
  });
  let platform: Platform;
  let api: GrantlineClient;
  let log: EventLogReader;
  let ldap: LdapTarget | undefined;
  let person: string;
  let token: string;
  let requestId: string;
  let grantId: string;

  beforeAll(async () => {
    ({ platform, api, log } = await scenario.start());
    ldap = await LdapTarget.connect(await ensureOpenldap());
    await ldap.ensureGroups([GROUP]);
    // The person's entry exists in the directory already; Grantline only manages group membership.
    person = `e2e_reader_${platform.runId}`;
    await ldap.createPerson(person);
    token = await platform.tokens.mint(person);
    await api.upsertHuman(person, `e2e_manager_${platform.runId}`);
  }, START_TIMEOUT_MS);

  afterAll(async () => {
    await ldap?.close();
    await scenario.close();
  }, START_TIMEOUT_MS);

  it(
    'is auto-approved and provisioned: ldapsearch shows the person as a member of the group',
    async () => {
      await platform.withLogs(async () => {
        const target = ldap!;
        expect(await target.isMember(person, GROUP)).toBe(false);
        const submittedAt = performance.now();
        requestId = await api.submitOk(token, {
          subject: { id: person, kind: 'human' },
          entitlementIds: ['wiki-readers'],
          justification: 'read the runbooks on the team wiki',
          duration: 'P7D',
        });
        await eventually(async () => expect(await target.isMember(person, GROUP)).toBe(true), WAIT);
        process.stdout.write(`ldap scenario: submit -> member in ldapsearch: ${(performance.now() - submittedAt).toFixed(0)} ms\n`);

        const view = await eventually(api.requestInStatus(token, requestId, 'provisioned'), WAIT);
        expect(view.grants).toEqual([expect.objectContaining({ entitlementId: 'wiki-readers', state: 'active' })]);
        grantId = view.grants[0]!.grantId;
      })();
    },
    SCENARIO_TIMEOUT_MS,
  );

  it(
    'is revoked on request: the member is gone in ldapsearch and the request says revoked',
    async () => {
      await platform.withLogs(async () => {
        const target = ldap!;
        const asked = await platform.call('intake', 'POST', `/v1/grants/${encodeURIComponent(grantId)}/revoke`, {
          token,
          body: { reason: 'finished with the runbooks' },
        });
        expect(asked.status).toBe(202);
        await eventually(async () => expect(await target.isMember(person, GROUP)).toBe(false), WAIT);
        await eventually(api.requestInStatus(token, requestId, 'revoked'), WAIT);
        // groupOfNames keeps at least one member: whatever else the group holds, it is still a valid entry
        expect((await target.membersOf(GROUP)).length).toBeGreaterThan(0);
      })();
    },
    SCENARIO_TIMEOUT_MS,
  );

  it(
    'reports a member added by hand with ldapmodify as drift, and leaves it in the directory',
    async () => {
      await platform.withLogs(async () => {
        const target = ldap!;
        const outsider = `e2e_outsider_${platform.runId}`;
        await target.createPerson(outsider);
        await target.addMemberByHand(outsider, GROUP);
        const finding = await eventually(async () => {
          const drift = ((await log.read([TOPICS.grants])) as Envelope<DriftDetectedData>[]).filter(
            (event) => event.type === 'iga.grant.drift-detected.v1' && event.data.targetAccount === outsider,
          );
          expect(drift).not.toEqual([]);
          return drift[0]!;
        }, WAIT);
        expect(finding.data).toMatchObject({ connectorId: 'ldap', kind: 'unexpected_in_target', externalRef: GROUP, remediation: 'report_only' });
        expect(finding.data.grantId).toBeUndefined();
        // reconciliation reports; removing the member is a person's decision
        expect(await target.isMember(outsider, GROUP)).toBe(true);
      })();
    },
    SCENARIO_TIMEOUT_MS,
  );
});
