// Scenario 1: a developer requests read access to a non-production database. Policy auto-approves it, the
// PostgreSQL connector grants the group role (visible in pg_auth_members), the grant expires after its duration
// (the scheduler's test clock jumps past it), the role is revoked in PostgreSQL, and the audit explains every step.
import { TOPICS, connectorCommandsTopic, connectorResultsTopic } from '@grantline/contracts';
import { eventually } from '@grantline/testing';
import { EventLogReader } from './event-log.reader';
import { GROUP_ROLES } from './grantline.client';
import type { GrantExplanation, GrantlineClient } from './grantline.client';
import { SCENARIO_TIMEOUT_MS, START_TIMEOUT_MS } from './platform.fixture';
import type { Platform } from './platform.fixture';
import type { PostgresTarget } from './postgres.helper';
import { ScenarioHarness } from './scenario.harness';

const WAIT = { timeoutMs: 60_000, intervalMs: 50 };
const ROLE = GROUP_ROLES['orders-staging-read'];
const CALLER_TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';

describe('scenario 1: auto-approved non-production read, provisioned, expired and revoked in PostgreSQL', () => {
  const scenario = new ScenarioHarness('autoexpiry', { groupRoles: [ROLE] });
  let platform: Platform;
  let pg: PostgresTarget;
  let api: GrantlineClient;
  let developer: string;
  let token: string;
  let requestId: string;
  let grantId: string;

  beforeAll(async () => {
    ({ platform, api, pg } = await scenario.start());
    process.stdout.write(`scenario 1: platform ready in ${platform.startupMs} ms (logs: ${platform.logDir})\n`);
    // The developer's login exists in the database already; Grantline only manages group membership.
    developer = `e2e_dev_${platform.runId}`;
    await pg.createLogin(developer);
    token = await platform.tokens.mint(developer);
    await api.upsertHuman(developer, `e2e_manager_${platform.runId}`);
  }, START_TIMEOUT_MS);

  afterAll(() => scenario.close(), START_TIMEOUT_MS);

  it(
    'is auto-approved and provisioned: the developer is a member of the group role in PostgreSQL',
    async () => {
      await platform.withLogs(async () => {
        expect(await pg.isMember(developer, ROLE)).toBe(false);
        const submittedAt = performance.now();
        // The caller's own trace: every hop of the request must continue it (W3C trace context over HTTP and Kafka).
        requestId = await api.submitOk(
          token,
          {
            subject: { id: developer, kind: 'human' },
            entitlementIds: ['orders-staging-read'],
            justification: 'investigate the staging checkout bug',
            duration: 'PT10M',
          },
          { traceparent: `00-${CALLER_TRACE_ID}-00f067aa0ba902b7-01` },
        );

        await eventually(async () => expect(await pg.isMember(developer, ROLE)).toBe(true), WAIT);
        const latencyMs = performance.now() - submittedAt;
        process.stdout.write(`scenario 1: submit -> provisioned in PostgreSQL: ${latencyMs.toFixed(0)} ms\n`);

        const view = await eventually(api.requestInStatus(token, requestId, 'provisioned'), WAIT);
        expect(view.grants).toEqual([expect.objectContaining({ entitlementId: 'orders-staging-read', state: 'active' })]);
        grantId = view.grants[0]!.grantId;

        // One trace from the HTTP call through policy, approval, provisioning and the connector: every record the
        // request caused up to its activation carries the caller's trace id in its `traceparent` header.
        const reader = await EventLogReader.connect(platform);
        try {
          // Each topic's records become readable when their transaction's markers are written: read until all are there.
          await eventually(async () => {
            const hops = await reader.traceparents(requestId);
            const lifecycle = hops.filter((hop) => !hop.type.startsWith('iga.timer.') && !hop.type.includes('deprovision') && !hop.type.includes('revoked'));
            expect(new Set(lifecycle.map((hop) => hop.topic))).toEqual(
              new Set([
                TOPICS.requests,
                TOPICS.decisions,
                TOPICS.approvals,
                TOPICS.grants,
                connectorCommandsTopic('postgres'),
                connectorResultsTopic('postgres'),
              ]),
            );
            expect(lifecycle.filter((hop) => hop.traceparent?.split('-')[1] !== CALLER_TRACE_ID)).toEqual([]);
          }, WAIT);
        } finally {
          await reader.close();
        }
      })();
    },
    SCENARIO_TIMEOUT_MS,
  );

  it(
    'expires after its duration (test clock) and the role is revoked in PostgreSQL',
    async () => {
      await platform.withLogs(async () => {
        const active = await eventually(api.grantActivated(grantId), WAIT);
        const expiresAt = new Date(active.grant.expiresAt ?? active.grant.plannedExpiresAt ?? '');
        expect(Number.isNaN(expiresAt.getTime())).toBe(false);
        // Still there just before the expiry: nothing removed it early.
        expect(await pg.isMember(developer, ROLE)).toBe(true);

        await api.advanceSchedulerPast(expiresAt);
        await eventually(async () => expect(await pg.isMember(developer, ROLE)).toBe(false), WAIT);
        await eventually(api.requestInStatus(token, requestId, 'revoked'), WAIT);
      })();
    },
    SCENARIO_TIMEOUT_MS,
  );

  it(
    'is explained end to end: request, policy decision, auto-approval, provisioning, expiry',
    async () => {
      await platform.withLogs(async () => {
        const explanation: GrantExplanation = await eventually(async () => {
          const answer = await api.explain(grantId);
          expect(answer.status).toBe(200);
          expect(answer.body.ending?.reason).toBe('expiry');
          expect(answer.body.grant.revokedAt).toBeDefined();
          // The timer's firing comes on another topic than the revocation: the audit may see it a little later.
          expect(answer.body.ending?.expiryTimerFiredAt).toBeDefined();
          return answer.body;
        }, WAIT);
        expect(explanation).toMatchObject({
          requestId,
          request: { requesterId: developer, subject: { id: developer }, justification: 'investigate the staging checkout bug' },
          decision: { effect: 'auto_approve', matchedRules: expect.arrayContaining(['human-low-nonprod-read']) },
          outcome: { kind: 'auto_approved' },
          grant: { connectorId: 'postgres', targetAccount: developer },
          missing: [],
        });
        expect(explanation.decision?.bundleDigest).toMatch(/\S/);
        // Every step carries its time (the timer's on the scheduler's advanced clock, the others on the wall clock).
        const steps = [explanation.grant.createdAt, explanation.grant.activatedAt, explanation.ending?.expiryTimerFiredAt, explanation.grant.revokedAt];
        expect(steps.every((step) => step !== undefined)).toBe(true);
        process.stdout.write(
          `scenario 1: explanation ${JSON.stringify({ decision: explanation.decision, outcome: explanation.outcome, grant: explanation.grant, ending: explanation.ending })}\n`,
        );
      })();
    },
    SCENARIO_TIMEOUT_MS,
  );
});
