// Compliance evidence from the log (issue 11): a small lifecycle — an auto-approved grant that expires, a
// self-approval attempt, a grant the manager approves, an offboarding of someone who owns a pipeline — then the
// evidence pack of the scenario's own period, fetched from the audit as an auditor. Every control line must link to
// events that really are on the log at the position the link names, and the expected statuses must be there: the
// controls satisfied, the orphaned pipeline a finding (NHI1), credential retrieval not observable (NHI10).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TOPICS } from '@grantline/contracts';
import type { ControlEvidence, ControlId, EvidencePack } from '@grantline/evidence';
import { EVIDENCE_TOPICS } from '@grantline/evidence';
import { eventually } from '@grantline/testing';
import type { EventLogReader } from './event-log.reader';
import { GROUP_ROLES } from './grantline.client';
import type { ApprovalRequestView, GrantlineClient } from './grantline.client';
import { SCENARIO_TIMEOUT_MS, START_TIMEOUT_MS } from './platform.fixture';
import type { HttpAnswer, Platform } from './platform.fixture';
import type { PostgresTarget } from './postgres.helper';
import { ScenarioHarness } from './scenario.harness';

const WAIT = { timeoutMs: 60_000, intervalMs: 100 };
const STAGING = GROUP_ROLES['orders-staging-read'];
const PROD = GROUP_ROLES['orders-prod-read'];

describe('compliance evidence: the pack of a scenario period, every line linked to real events', () => {
  const scenario = new ScenarioHarness('evidence', { groupRoles: [STAGING, PROD], eventLog: true });
  let platform: Platform;
  let api: GrantlineClient;
  let pg: PostgresTarget;
  let log: EventLogReader;
  let developer: string;
  let manager: string;
  let pipeline: string;
  let outsider: string;
  let developerToken: string;
  let managerToken: string;
  let periodStart: string;
  let periodEnd: string;
  let stagingGrant: string;
  let prodGrant: string;
  let prodRequest: string;

  const evidence = async <T>(query: string, token?: string): Promise<HttpAnswer<T>> =>
    platform.call<T>('audit', 'GET', `/v1/audit/evidence?${query}`, { token: token ?? (await api.tokenOf('auditor')) });
  const periodQuery = (format?: 'md' | 'json'): string =>
    new URLSearchParams({ from: periodStart, to: periodEnd, ...(format === undefined ? {} : { format }) }).toString();

  beforeAll(async () => {
    ({ platform, api, pg, log } = await scenario.start());
    developer = `e2e_dev_${platform.runId}`;
    manager = `e2e_mgr_${platform.runId}`;
    pipeline = `e2e_pipeline_${platform.runId}`;
    outsider = `e2e_outsider_${platform.runId}`;
    // The period starts before the first fact of the scenario (identities included).
    periodStart = new Date(Date.now() - 1_000).toISOString();
    await pg.createLogin(developer);
    developerToken = await platform.tokens.mint(developer);
    managerToken = await platform.tokens.mint(manager);
    await api.upsertHuman(manager);
    await api.upsertHuman(developer, manager);
    await api.upsertIdentity(pipeline, { kind: 'ci_pipeline', displayName: 'E2E nightly export', ownerId: developer });
  }, START_TIMEOUT_MS);

  afterAll(() => scenario.close(), START_TIMEOUT_MS);

  it(
    'runs the lifecycle: an expiring auto-approved grant, a refused self-approval, an approved grant, an offboarding',
    async () => {
      await platform.withLogs(async () => {
        const stagingRequest = await api.submitOk(developerToken, {
          subject: { id: developer, kind: 'human' },
          entitlementIds: ['orders-staging-read'],
          justification: 'evidence scenario: short staging read',
          duration: 'PT10M',
        });
        stagingGrant = (await eventually(api.requestInStatus(developerToken, stagingRequest, 'provisioned'), WAIT)).grants[0]!.grantId;
        const active = await eventually(api.grantActivated(stagingGrant), WAIT);
        await api.advanceSchedulerPast(new Date(active.grant.expiresAt ?? active.grant.plannedExpiresAt ?? ''));
        await eventually(async () => expect(await pg.isMember(developer, STAGING)).toBe(false), WAIT);
        await eventually(api.requestInStatus(developerToken, stagingRequest, 'revoked'), WAIT);

        prodRequest = await api.submitOk(developerToken, {
          subject: { id: developer, kind: 'human' },
          entitlementIds: ['orders-prod-read'],
          justification: 'evidence scenario: production read',
          duration: 'PT4H',
        });
        const taskId = await eventually(async () => {
          const answer = await api.approvalRequest(managerToken, prodRequest);
          expect(answer.status).toBe(200);
          const view: ApprovalRequestView = answer.body;
          expect(view.tasks).toHaveLength(1);
          return view.tasks[0]!.taskId;
        }, WAIT);
        expect((await api.decide(developerToken, taskId, 'approve', 'my own request')).status).toBe(403);
        expect((await api.decide(managerToken, taskId, 'approve', 'needed for the incident review')).status).toBe(200);
        prodGrant = (await eventually(api.requestInStatus(developerToken, prodRequest, 'provisioned'), WAIT)).grants[0]!.grantId;

        const offboarded = await platform.call('intake', 'POST', `/v1/identities/${developer}/offboard`, {
          token: await api.tokenOf('identity-source'),
          body: { reason: 'leaver' },
        });
        expect(offboarded.status).toBe(202);
        await eventually(async () => expect(await pg.groupsOf(developer)).toEqual([]), WAIT);
        await eventually(api.requestInStatus(developerToken, prodRequest, 'revoked'), WAIT);
        periodEnd = new Date(Date.now() + 1_000).toISOString();
      })();
    },
    SCENARIO_TIMEOUT_MS,
  );

  it(
    "produces the pack of its own period: each control's status as the lifecycle warrants, every line linked to events on the log",
    async () => {
      await platform.withLogs(async () => {
        // The revocations are written before the intake reports them; the pack is read from the log, so wait for it there.
        const pack = await eventually(async () => {
          const answer = await evidence<EvidencePack>(periodQuery());
          expect(answer.status).toBe(200);
          const ac2 = answer.body.controls.find((control) => control.id === 'AC-2');
          expect(ac2?.lines.map((line) => line.text).filter((text) => text.includes('removed'))).toHaveLength(2);
          return answer.body;
        }, WAIT);
        const control = (id: ControlId): ControlEvidence => {
          const found = pack.controls.find((candidate) => candidate.id === id);
          if (found === undefined) throw new Error(`the pack has no control ${id}`);
          return found;
        };

        expect(pack.period).toEqual({ from: periodStart, to: periodEnd });
        expect(pack.log.topics).toEqual(EVIDENCE_TOPICS);
        expect(Object.fromEntries(pack.controls.map((item) => [item.id, item.status]))).toEqual({
          'AC-2': 'satisfied',
          'AC-2(2)': 'satisfied',
          'AC-2(3)': 'satisfied',
          'AC-5': 'satisfied',
          'AC-6': 'satisfied',
          'PR.AA-01': 'finding',
          'PR.AA-05': 'satisfied',
          NHI1: 'finding',
          NHI5: 'not_observable',
          NHI7: 'not_observable',
          NHI10: 'not_observable',
        });
        const ac2 = control('AC-2');
        expect(ac2.lines.map((line) => line.about).sort()).toEqual([prodGrant, stagingGrant].sort());
        expect(ac2.lines.find((line) => line.about === stagingGrant)?.text).toContain('auto-approved by policy');
        expect(ac2.lines.find((line) => line.about === prodGrant)?.text).toContain(`approved by ${manager} (manager)`);
        expect(control('AC-2(2)').lines).toEqual([expect.objectContaining({ about: stagingGrant, status: 'ok', text: expect.stringContaining('(expiry)') })]);
        expect(control('AC-2(3)').lines).toEqual([
          expect.objectContaining({ about: developer, status: 'ok', text: expect.stringContaining(`${prodGrant} removed`) }),
        ]);
        expect(control('AC-5').lines.map((line) => line.text)).toEqual(
          expect.arrayContaining([
            expect.stringContaining(`self-approval refused: ${developer} (requester)`),
            expect.stringContaining(`${manager} approved task ${`${prodRequest}:manager`}`),
          ]),
        );
        expect(control('NHI1').lines).toEqual([
          expect.objectContaining({ about: pipeline, status: 'finding', text: expect.stringContaining(`owned by ${developer}`) }),
        ]);
        expect(control('NHI10').reason).toMatch(/^Not yet observable: no event on the log records the retrieval or use of a credential/);

        // Every line of every control links to at least one event, and each link is an event of this platform's log:
        // the same id and type, at the topic, partition and offset the link names.
        const onLog = new Map(
          (await log.readPositioned(EVIDENCE_TOPICS)).map(({ event, topic, partition, offset }) => [`${topic}/${partition}@${offset}`, event]),
        );
        const lines = pack.controls.flatMap((item) => item.lines.map((line) => ({ control: item.id, line })));
        expect(lines.length).toBeGreaterThanOrEqual(10);
        const broken: string[] = [];
        for (const { control: id, line } of lines) {
          if (line.links.length === 0) broken.push(`${id} ${line.about}: no link`);
          for (const link of line.links) {
            const event = onLog.get(`${link.topic}/${link.partition}@${link.offset}`);
            if (event?.id !== link.id || event.type !== link.type)
              broken.push(`${id} ${line.about}: ${link.type} ${link.id} is not at ${link.topic}/${link.partition}@${link.offset}`);
          }
        }
        expect(broken).toEqual([]);
        process.stdout.write(
          `evidence: ${pack.log.events} events folded, ${lines.length} lines, ${lines.reduce((sum, { line }) => sum + line.links.length, 0)} links, all on the log; summary ${JSON.stringify(pack.summary)}\n`,
        );

        const markdown = await evidence<string>(periodQuery('md'));
        expect(markdown.status).toBe(200);
        expect(markdown.contentType).toContain('text/markdown');
        expect(markdown.body).toContain('## NHI1 Improper Offboarding');
        // Kept beside the service logs: what an auditor would file for this run.
        writeFileSync(join(platform.logDir, 'evidence.md'), markdown.body);
        expect(markdown.body).toContain(`\`${ac2.lines[0]!.links[0]!.topic}/${ac2.lines[0]!.links[0]!.partition}@${ac2.lines[0]!.links[0]!.offset}\``);
      })();
    },
    SCENARIO_TIMEOUT_MS,
  );

  it(
    'refuses a bad period naming the field, and a member who is not an auditor with 403, writing nothing but the record of the attempt',
    async () => {
      await platform.withLogs(async () => {
        const backwards = await evidence<{ errors: { field: string }[] }>(new URLSearchParams({ from: periodEnd, to: periodStart }).toString());
        expect(backwards.status).toBe(400);
        expect(backwards.body.errors.map((error) => error.field)).toEqual(['to']);

        const refused = await evidence<{ status: number }>(periodQuery(), await platform.tokens.mint(outsider));
        expect(refused.status).toBe(403);
        await eventually(async () => {
          const denials = await api.accessDenials(outsider);
          expect(denials.body.denials).toEqual([expect.objectContaining({ service: 'audit', status: 403, operation: 'GET /v1/audit/evidence' })]);
        }, WAIT);
        const written = (await log.read([...EVIDENCE_TOPICS, TOPICS.notifications])).filter((event) => event.actor.id === outsider);
        expect(written.map((event) => event.type)).toEqual([]);
      })();
    },
    SCENARIO_TIMEOUT_MS,
  );
});
