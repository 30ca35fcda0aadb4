// The authorization matrix: every operation of every service's OpenAPI document, called on the running platform as
// no token, an expired token, a member unrelated to the object, a member related to it, and each role, and each
// answer checked against the model in docs/authorization.md. An operation the model does not name fails the spec,
// and so does a row naming an operation no service serves: the table and the APIs cannot drift apart.
//
// Allowed calls carry an invalid body (or read), so they answer 200 or 400 and write nothing; refused calls must be
// refused before the body is looked at (401/403/404), or a refused caller would learn what a valid body looks like.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TOPICS } from '@grantline/contracts';
import { eventually } from '@grantline/testing';
import { e2eBuildMode } from './compiled-services';
import type { EventLogReader } from './event-log.reader';
import { GROUP_ROLES } from './grantline.client';
import type { GrantlineClient } from './grantline.client';
import { ALL_SERVICES, REPO_ROOT, SCENARIO_TIMEOUT_MS, START_TIMEOUT_MS } from './platform.fixture';
import type { Platform, ServiceName } from './platform.fixture';
import type { PostgresTarget } from './postgres.helper';
import { ScenarioHarness } from './scenario.harness';

const WAIT = { timeoutMs: 90_000, intervalMs: 250 };
const REFUSED = [401, 403, 404];
const LIFECYCLE_TOPICS = [TOPICS.requests, TOPICS.identities, TOPICS.decisions, TOPICS.approvals, TOPICS.grants, TOPICS.schedule];
/**
 * Every service, and the gateway in front of them (its own operations: the rest of its document is theirs), and
 * connector-ldap and connector-credentials: not in ALL_SERVICES (their own scenarios start them), but their operations are
 * in the model like any service's.
 */
const MATRIX_SERVICES: readonly ServiceName[] = [...ALL_SERVICES, 'gateway', 'connector-ldap', 'connector-credentials'];

/** One row of the model table. */
interface ModelRow {
  readonly service: ServiceName;
  readonly method: string;
  readonly path: string;
  readonly roles: readonly string[];
  readonly relations: readonly string[];
  readonly otherwise: number | undefined;
  /** Served only by a service started in dev mode (`npm start`, the source e2e); the image's build answers 404. */
  readonly devModeOnly: boolean;
}

/** Reads `## The model` of docs/authorization.md. */
function readModel(): ModelRow[] {
  const text = readFileSync(join(REPO_ROOT, 'docs/authorization.md'), 'utf8');
  const section = text.slice(text.indexOf('## The model'));
  const rows: ModelRow[] = [];
  for (const line of section.split('\n')) {
    const cells = line
      .split('|')
      .slice(1, -1)
      .map((cell) => cell.trim());
    if (cells.length < 5 || cells[0] === 'service' || /^-+$/.test(cells[0] ?? '')) continue;
    const [service = '', operation = '', roles = '', relations = '', otherwise = '', notes = ''] = cells;
    const [method = '', path = ''] = operation.split(' ');
    const list = (cell: string): string[] =>
      cell
        .split(',')
        .map((item) => item.trim())
        .filter(Boolean);
    rows.push({
      service: service as ServiceName,
      method,
      path,
      roles: list(roles),
      relations: list(relations),
      otherwise: otherwise === '' ? undefined : Number(otherwise),
      devModeOnly: /^dev mode only/.test(notes),
    });
  }
  return rows;
}

const key = (service: string, method: string, path: string): string => `${service} ${method.toUpperCase()} ${path}`;

/** Who calls: the principal's token, whether it is a person, and its role (or relation) for the report. */
interface Caller {
  readonly label: string;
  readonly subject?: string;
  readonly token?: string;
  readonly roles: readonly string[];
  readonly person: boolean;
}

/** How to call one operation: its concrete path and query, the member related to the object, the body to send. */
interface OperationFixture {
  readonly path: (caller: Caller) => Promise<string> | string;
  /** The member the row's relation applies to (undefined: the row has no relation to test). */
  readonly related?: string;
  readonly body?: (caller: Caller) => unknown;
}

describe('authorization matrix: every operation of every service against docs/authorization.md', () => {
  const scenario = new ScenarioHarness('authzmatrix', {
    services: MATRIX_SERVICES,
    groupRoles: [GROUP_ROLES['orders-staging-read'], GROUP_ROLES['orders-prod-read']],
    eventLog: true,
  });
  let platform: Platform;
  let api: GrantlineClient;
  let pg: PostgresTarget;
  let log: EventLogReader;
  let alice: string;
  let maria: string;
  let mallory: string;
  let stagingRequest: string;
  let stagingGrant: string;
  let prodRequest: string;
  let scimUserId: string;
  let nhi: string;
  let transferId: string;
  let scimGroupId: string;
  let reviewId: string;
  let campaignId: string;
  let itemId: string;
  const tokens = new Map<string, string>();

  const scim = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const answer = await platform.call<T>('intake', method, `/scim/v2${path}`, {
      token: await api.tokenOf('identity-source'),
      ...(body === undefined ? {} : { body }),
    });
    if (answer.status >= 300) throw new Error(`SCIM ${method} ${path}: ${answer.status} ${JSON.stringify(answer.body)}`);
    return answer.body;
  };
  /** A SCIM user of its own for each allowed DELETE: deleting is a leaver, so it is not done twice to one user. */
  const freshScimUser = async (): Promise<string> =>
    (
      await scim<{ id: string }>('POST', '/Users', {
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
        userName: `e2e_scim_${platform.runId}_${Math.random().toString(36).slice(2, 8)}`,
        active: true,
      })
    ).id;
  const freshScimGroup = async (): Promise<string> =>
    (
      await scim<{ id: string }>('POST', '/Groups', {
        schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
        displayName: `e2e-group-${Math.random().toString(36).slice(2, 8)}`,
        members: [],
      })
    ).id;

  const fixtures = (): Record<string, OperationFixture> => {
    const invalid = { __invalid: true };
    const health = { path: () => '' };
    const fixturesByOperation: Record<string, OperationFixture> = {
      'intake GET /dev-issuer/jwks.json': { path: () => '/dev-issuer/jwks.json' },
      'intake GET /dev-issuer/.well-known/openid-configuration': { path: () => '/dev-issuer/.well-known/openid-configuration' },
      'intake POST /v1/requests': { path: () => '/v1/requests', body: () => invalid },
      'intake GET /v1/requests/{id}': { path: () => `/v1/requests/${prodRequest}`, related: maria },
      'intake POST /v1/requests/{id}/withdraw': { path: () => `/v1/requests/${prodRequest}/withdraw`, related: alice, body: () => ({ reason: 42 }) },
      'intake POST /v1/grants/{id}/revoke': { path: () => `/v1/grants/${encodeURIComponent(stagingGrant)}/revoke`, related: alice, body: () => ({}) },
      'intake PUT /v1/identities/{id}': {
        path: (caller) => `/v1/identities/e2e_nhi_${platform.runId}_${caller.label.replace(/[^a-z]/g, '')}`,
        related: alice,
        // A member may register an NHI they own: alice's body passes that check and fails validation (displayName);
        // for anyone else alice is someone else.
        body: () => ({ kind: 'ci_pipeline', ownerId: alice, displayName: 42 }),
      },
      'intake PATCH /v1/identities/{id}/attributes': { path: () => `/v1/identities/${alice}/attributes`, body: () => ({ attributes: {} }) },
      'intake POST /v1/identities/{id}/owner-transfers': {
        path: () => `/v1/identities/${nhi}/owner-transfers`,
        related: alice,
        body: () => ({ newOwnerId: 'not an id' }),
      },
      'intake POST /v1/identities/{id}/owner-transfers/{transferId}/accept': {
        path: () => `/v1/identities/${nhi}/owner-transfers/${transferId}/accept`,
        related: maria,
        body: () => ({ comment: 42 }),
      },
      'intake POST /v1/identities/{id}/offboard': { path: () => `/v1/identities/${alice}/offboard`, body: () => ({ reason: 'not-a-reason' }) },
      'intake GET /scim/v2/ServiceProviderConfig': { path: () => '/scim/v2/ServiceProviderConfig' },
      'intake GET /scim/v2/ResourceTypes': { path: () => '/scim/v2/ResourceTypes' },
      'intake GET /scim/v2/Schemas': { path: () => '/scim/v2/Schemas' },
      'intake GET /scim/v2/Schemas/{id}': { path: () => `/scim/v2/Schemas/${encodeURIComponent('urn:ietf:params:scim:schemas:core:2.0:User')}` },
      'intake GET /scim/v2/ResourceTypes/{id}': { path: () => '/scim/v2/ResourceTypes/User' },
      'intake GET /scim/v2/Users': { path: () => '/scim/v2/Users' },
      'intake POST /scim/v2/Users': { path: () => '/scim/v2/Users', body: () => ({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 42 }) },
      'intake GET /scim/v2/Users/{id}': { path: () => `/scim/v2/Users/${scimUserId}` },
      'intake PUT /scim/v2/Users/{id}': {
        path: () => `/scim/v2/Users/${scimUserId}`,
        body: () => ({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 42 }),
      },
      'intake PATCH /scim/v2/Users/{id}': {
        path: () => `/scim/v2/Users/${scimUserId}`,
        body: () => ({ schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: 'not-a-list' }),
      },
      'intake DELETE /scim/v2/Users/{id}': {
        path: async (caller) => `/scim/v2/Users/${caller.roles.includes('identity-source') ? await freshScimUser() : scimUserId}`,
      },
      'intake GET /scim/v2/Groups': { path: () => '/scim/v2/Groups' },
      'intake POST /scim/v2/Groups': {
        path: () => '/scim/v2/Groups',
        body: () => ({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 42 }),
      },
      'intake GET /scim/v2/Groups/{id}': { path: () => `/scim/v2/Groups/${scimGroupId}` },
      'intake PUT /scim/v2/Groups/{id}': {
        path: () => `/scim/v2/Groups/${scimGroupId}`,
        body: () => ({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 42 }),
      },
      'intake PATCH /scim/v2/Groups/{id}': {
        path: () => `/scim/v2/Groups/${scimGroupId}`,
        body: () => ({ schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: 'not-a-list' }),
      },
      'intake DELETE /scim/v2/Groups/{id}': {
        path: async (caller) => `/scim/v2/Groups/${caller.roles.includes('identity-source') ? await freshScimGroup() : scimGroupId}`,
      },
      'policy POST /v1/policy/simulate': { path: () => '/v1/policy/simulate', body: () => invalid },
      'policy POST /v1/policy/backtest': { path: () => '/v1/policy/backtest', body: () => invalid },
      // No body to get wrong: an allowed caller runs a real scan (its events are the policy service's, not the caller's).
      'policy POST /v1/sod/scans': { path: () => '/v1/sod/scans' },
      'approval POST /v1/approvals/tasks/{taskId}/decision': {
        path: () => `/v1/approvals/tasks/${encodeURIComponent(`${prodRequest}:manager`)}/decision`,
        related: maria,
        body: () => ({ decision: 'maybe' }),
      },
      'approval GET /v1/approvals/tasks': { path: () => '/v1/approvals/tasks' },
      'approval GET /v1/reviews': { path: () => '/v1/reviews' },
      'approval GET /v1/reviews/{reviewId}': { path: () => `/v1/reviews/${encodeURIComponent(reviewId)}`, related: maria },
      'approval POST /v1/campaigns': { path: () => '/v1/campaigns', body: () => invalid },
      'approval GET /v1/campaigns': { path: () => '/v1/campaigns' },
      'approval GET /v1/campaigns/{campaignId}': { path: () => `/v1/campaigns/${encodeURIComponent(campaignId)}`, related: maria },
      'approval GET /v1/certifications': { path: () => '/v1/certifications' },
      'approval POST /v1/campaigns/{campaignId}/items/{itemId}': {
        path: () => `/v1/campaigns/${encodeURIComponent(campaignId)}/items/${encodeURIComponent(itemId)}`,
        related: maria,
        body: () => ({ decision: 'maybe' }),
      },
      'approval POST /v1/reviews/{reviewId}': {
        path: () => `/v1/reviews/${encodeURIComponent(reviewId)}`,
        related: maria,
        body: () => ({ outcome: 'maybe' }),
      },
      'approval GET /v1/approvals/requests/{requestId}': { path: () => `/v1/approvals/requests/${prodRequest}`, related: alice },
      'scheduler GET /v1/timers/status': { path: () => '/v1/timers/status' },
      'scheduler GET /v1/test-clock': { path: () => '/v1/test-clock' },
      'scheduler POST /v1/test-clock/advance': { path: () => '/v1/test-clock/advance', body: () => ({}) },
      'audit GET /v1/audit/requests/{requestId}/timeline': { path: () => `/v1/audit/requests/${stagingRequest}/timeline`, related: alice },
      'audit GET /v1/audit/grants': { path: () => `/v1/audit/grants?subjectId=${alice}`, related: maria },
      'audit GET /v1/audit/grants/{grantId}/explain': { path: () => `/v1/audit/grants/${encodeURIComponent(stagingGrant)}/explain`, related: alice },
      'audit GET /v1/audit/reconciliations': { path: () => '/v1/audit/reconciliations?connectorId=postgres' },
      'audit GET /v1/audit/drift': { path: () => '/v1/audit/drift?connectorId=postgres' },
      'audit GET /v1/audit/access-denials': { path: () => '/v1/audit/access-denials' },
      'audit GET /v1/audit/campaigns/{campaignId}': { path: () => `/v1/audit/campaigns/${encodeURIComponent(campaignId)}` },
      // Allowed callers get 400 (no period) without a replay of the log; refused ones 403 before the query is read.
      'audit GET /v1/audit/evidence': { path: () => '/v1/audit/evidence?from=not-an-instant' },
      'audit GET /v1/audit/log/key': { path: () => '/v1/audit/log/key' },
      'audit GET /v1/audit/log/checkpoints': { path: () => '/v1/audit/log/checkpoints' },
      // Allowed callers get 400 (no such partition), never a 404 that would look like a refusal.
      'audit GET /v1/audit/log/checkpoints/{topic}/{partition}': { path: () => `/v1/audit/log/checkpoints/${TOPICS.requests}/not-a-partition` },
      'audit GET /v1/audit/log/proofs/inclusion': { path: () => '/v1/audit/log/proofs/inclusion' },
      'audit GET /v1/audit/log/proofs/consistency': { path: () => '/v1/audit/log/proofs/consistency' },
    };
    // The issuer's public material, and the one-time handoff: nobody holds the credential knocked at, so every caller
    // with a valid token gets the 404 an unknown credential gets (a holder's 200 is short-lived-credentials.e2e.spec.ts).
    fixturesByOperation['connector-credentials GET /.well-known/jwks.json'] = { path: () => '/.well-known/jwks.json' };
    fixturesByOperation['connector-credentials GET /v1/credentials/revocations'] = { path: () => '/v1/credentials/revocations' };
    fixturesByOperation['connector-credentials GET /v1/credentials/ca.pem'] = { path: () => '/v1/credentials/ca.pem' };
    fixturesByOperation['connector-credentials GET /v1/credentials/crl'] = { path: () => '/v1/credentials/crl' };
    fixturesByOperation['connector-credentials POST /v1/connectors/{connectorId}/credentials/{credentialId}/retrieval'] = {
      path: () => `/v1/connectors/credentials/credentials/${encodeURIComponent(`matrix-${platform.runId}`)}/retrieval`,
    };
    fixturesByOperation['gateway GET /openapi.json'] = { path: () => '/openapi.json' };
    fixturesByOperation['gateway GET /asyncapi.json'] = { path: () => '/asyncapi.json' };
    for (const service of MATRIX_SERVICES) {
      fixturesByOperation[key(service, 'GET', '/health/live')] = { ...health, path: () => '/health/live' };
      fixturesByOperation[key(service, 'GET', '/health/ready')] = { ...health, path: () => '/health/ready' };
      fixturesByOperation[key(service, 'GET', '/metrics')] = { ...health, path: () => '/metrics' };
    }
    return fixturesByOperation;
  };

  const tokenFor = async (subject: string, options: { roles?: string[]; workload?: boolean; expired?: boolean } = {}): Promise<string> => {
    const cacheKey = `${subject}|${(options.roles ?? []).join(',')}|${String(options.workload)}|${String(options.expired)}`;
    let token = tokens.get(cacheKey);
    if (token === undefined) {
      token = await platform.tokens.mint(subject, {
        ...(options.roles === undefined ? {} : { roles: options.roles }),
        ...(options.workload === true ? { workload: true } : {}),
        ...(options.expired === true ? { ttlSeconds: 60, now: new Date(Date.now() - 3_600_000) } : {}),
      });
      tokens.set(cacheKey, token);
    }
    return token;
  };

  beforeAll(async () => {
    ({ platform, api, pg, log } = await scenario.start());
    alice = `e2e_alice_${platform.runId}`;
    maria = `e2e_maria_${platform.runId}`;
    mallory = `e2e_mallory_${platform.runId}`;
    await pg.createLogin(alice);
    await api.upsertHuman(maria);
    await api.upsertHuman(alice, maria);
    await api.upsertHuman(mallory);
    const aliceToken = await tokenFor(alice);
    stagingRequest = await api.submitOk(aliceToken, {
      subject: { id: alice, kind: 'human' },
      entitlementIds: ['orders-staging-read'],
      justification: 'matrix: auto-approved',
      duration: 'PT8H',
    });
    prodRequest = await api.submitOk(aliceToken, {
      subject: { id: alice, kind: 'human' },
      entitlementIds: ['orders-prod-read'],
      justification: 'matrix: needs her manager',
      duration: 'PT4H',
    });
    stagingGrant = (await eventually(api.requestInStatus(aliceToken, stagingRequest, 'provisioned'), WAIT)).grants[0]!.grantId;
    await eventually(async () => {
      const view = await api.approvalRequest(aliceToken, prodRequest);
      expect(view.body.tasks.map((task) => task.taskId)).toContain(`${prodRequest}:manager`);
    }, WAIT);
    // The audit has seen the grant and a completed reconciliation, so allowed reads answer 200.
    await eventually(api.grantActivated(stagingGrant), WAIT);
    await eventually(async () => expect((await api.drift('postgres')).status).toBe(200), WAIT);
    // alice's own machine identity, and a transfer of it proposed to maria (left open: the matrix only knocks).
    nhi = `e2e_pipeline_${platform.runId}`;
    expect(
      (
        await platform.call('intake', 'PUT', `/v1/identities/${nhi}`, {
          token: aliceToken,
          body: { kind: 'ci_pipeline', displayName: 'matrix pipeline', ownerId: alice },
        })
      ).status,
    ).toBe(202);
    const proposal = await platform.call<{ transferId: string }>('intake', 'POST', `/v1/identities/${nhi}/owner-transfers`, {
      token: aliceToken,
      body: { newOwnerId: maria, reason: 'matrix' },
    });
    expect(proposal.status).toBe(202);
    transferId = proposal.body.transferId;
    scimUserId = await freshScimUser();
    scimGroupId = await freshScimGroup();
    // A break-glass use by an on-call engineer of maria's (not alice: the matrix patches her attributes), whose
    // post-incident review is maria's, left open.
    const engineer = `e2e_bgmatrix_${platform.runId}`;
    await pg.createLogin(engineer);
    await api.upsertHuman(engineer, maria);
    // Set by an on-call system of its own: the matrix's oncall-source caller must leave no event behind.
    const pager = await tokenFor(`e2e_pager_${platform.runId}`, { roles: ['oncall-source'], workload: true });
    expect(
      (await platform.call('intake', 'PATCH', `/v1/identities/${engineer}/attributes`, { token: pager, body: { attributes: { onCall: true } } })).status,
    ).toBe(202);
    const incident = { system: 'jira', id: `INC-matrix-${platform.runId}` };
    const breakGlass = await api.submitOk(await tokenFor(engineer), {
      subject: { id: engineer, kind: 'human' },
      entitlementIds: ['orders-prod-read'],
      justification: 'matrix: break-glass reviewed afterwards',
      ticket: incident,
      duration: 'PT1H',
      emergency: { breakGlass: true, incidentRef: incident },
    });
    reviewId = `${breakGlass}:post-incident-review`;
    await eventually(
      async () => expect((await platform.call('approval', 'GET', `/v1/reviews/${reviewId}`, { token: await tokenFor(maria) })).status).toBe(200),
      WAIT,
    );
    // alice moves department (same manager): a micro-certification of her grants for maria, left open.
    await api.upsertHuman(alice, maria, { department: `matrix-${platform.runId}` });
    const mariaToken = await tokenFor(maria);
    ({ campaignId, itemId } = await eventually(async () => {
      const answer = await platform.call<{ items: { campaignId: string; itemId: string }[] }>('approval', 'GET', '/v1/certifications', { token: mariaToken });
      expect(answer.body.items.length).toBeGreaterThan(0);
      return answer.body.items[0]!;
    }, WAIT));
    const auditorToken = await tokenFor(`e2e_campaign_auditor_${platform.runId}`, { roles: ['auditor'] });
    await eventually(
      async () =>
        expect((await platform.call('audit', 'GET', `/v1/audit/campaigns/${encodeURIComponent(campaignId)}`, { token: auditorToken })).status).toBe(200),
      WAIT,
    );
  }, START_TIMEOUT_MS);

  afterAll(() => scenario.close(), START_TIMEOUT_MS);

  it(
    'names every served operation in the model, and only served operations',
    async () => {
      const model = readModel();
      const served = new Set<string>();
      for (const service of MATRIX_SERVICES) {
        const document = await platform.call<{ paths: Record<string, Record<string, { 'x-grantline-service'?: string }>> }>(service, 'GET', '/docs-json');
        expect(document.status).toBe(200);
        for (const [path, operations] of Object.entries(document.body.paths)) {
          for (const [method, operation] of Object.entries(operations)) {
            // The gateway documents every service's operations: its rows are the ones it serves itself.
            if (service === 'gateway' && operation['x-grantline-service'] !== 'gateway') continue;
            if (['get', 'post', 'put', 'patch', 'delete'].includes(method)) served.add(key(service, method, path));
          }
        }
      }
      const modelled = new Set(model.map((row) => key(row.service, row.method, row.path)));
      expect([...served].filter((operation) => !modelled.has(operation)).sort()).toEqual([]);
      expect([...modelled].filter((operation) => !served.has(operation)).sort()).toEqual([]);
      expect(Object.keys(fixtures()).sort()).toEqual([...modelled].sort());
    },
    SCENARIO_TIMEOUT_MS,
  );

  it(
    'answers every caller of every operation as the model says',
    async () => {
      await platform.withLogs(async () => {
        const model = readModel();
        const byOperation = fixtures();
        const roleCallers: Caller[] = [];
        const subjectOf = (role: string): string => `e2e_${role.replace(/-/g, '_')}_${platform.runId}`;
        for (const role of ['security', 'auditor', 'policy-author', 'operator', 'admin', 'catalog-admin']) {
          roleCallers.push({
            label: `role ${role}`,
            subject: subjectOf(role),
            token: await tokenFor(subjectOf(role), { roles: [role] }),
            roles: ['member', role],
            person: true,
          });
        }
        for (const role of ['identity-source', 'oncall-source']) {
          roleCallers.push({
            label: `role ${role}`,
            subject: subjectOf(role),
            token: await tokenFor(subjectOf(role), { roles: [role], workload: true }),
            roles: [role],
            person: false,
          });
        }
        const mismatches: string[] = [];
        let calls = 0;
        for (const row of model) {
          const fixture = byOperation[key(row.service, row.method, row.path)];
          if (fixture === undefined) {
            mismatches.push(`${key(row.service, row.method, row.path)}: no fixture`);
            continue;
          }
          const call = async (caller: Caller): Promise<number> => {
            calls += 1;
            const body = fixture.body?.(caller);
            const answer = await platform.call(row.service, row.method, await fixture.path(caller), {
              ...(caller.token === undefined ? {} : { token: caller.token }),
              ...(body === undefined ? {} : { body }),
            });
            return answer.status;
          };
          const check = (caller: Caller, status: number, wanted: 'pass' | number | 'refused'): void => {
            const ok = wanted === 'pass' ? !REFUSED.includes(status) : wanted === 'refused' ? status === 403 || status === 404 : status === wanted;
            if (!ok) mismatches.push(`${key(row.service, row.method, row.path)} as ${caller.label}: got ${status}, model says ${wanted}`);
          };
          if (row.roles.includes('public')) {
            const wanted = row.devModeOnly && e2eBuildMode() === 'dist' ? 404 : 'pass';
            check({ label: 'no token', roles: [], person: false }, await call({ label: 'no token', roles: [], person: false }), wanted);
            continue;
          }
          const anonymous: Caller = { label: 'no token', roles: [], person: false };
          check(anonymous, await call(anonymous), 401);
          const expired: Caller = { label: 'an expired token', token: await tokenFor(alice, { expired: true }), roles: ['member'], person: true };
          check(expired, await call(expired), 401);
          const unrelated: Caller = { label: 'unrelated member', token: await tokenFor(mallory), roles: ['member'], person: true };
          check(unrelated, await call(unrelated), row.roles.includes('member') ? 'pass' : (row.otherwise ?? 403));
          if (row.relations.length > 0 && fixture.related !== undefined) {
            const related: Caller = { label: 'related member', token: await tokenFor(fixture.related), roles: ['member'], person: true };
            check(related, await call(related), 'pass');
          }
          for (const caller of roleCallers) {
            const allowed = caller.roles.some((role) => row.roles.includes(role));
            check(caller, await call(caller), allowed ? 'pass' : 'refused');
          }
        }
        expect(mismatches).toEqual([]);
        // Refused calls wrote nothing but the record of the attempt, and allowed calls (invalid bodies) nothing at all:
        // the unrelated member and every role but the identity source (whose SCIM deletes are real leavers) left no
        // lifecycle event behind.
        const quietIds = new Set([mallory, ...roleCallers.filter((caller) => !caller.roles.includes('identity-source')).map((caller) => caller.subject)]);
        const written = (await log.read(LIFECYCLE_TOPICS)).filter((event) => quietIds.has(event.actor.id) && !event.type.endsWith('.access-denied.v1'));
        expect(written.map((event) => `${event.actor.id}: ${event.type}`)).toEqual([]);
        process.stdout.write(`authorization matrix: ${model.length} operations, ${calls} calls, all as the model says, nothing written by refused callers\n`);
      })();
    },
    SCENARIO_TIMEOUT_MS * 3,
  );
});
