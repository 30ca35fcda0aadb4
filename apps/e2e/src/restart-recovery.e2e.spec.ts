// Scenario 9: crash and rebuild. The scheduler is killed (SIGKILL) while grants wait for their expiry and started
// again: it rebuilds its timers from the log and every grant is still revoked in PostgreSQL on time — not before,
// not twice. Then the audit's database is dropped and the audit restarted: the projections it rebuilds from the log
// answer exactly as the originals did.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TimerFired, TOPICS } from '@grantline/contracts';
import type { TimerFiredData } from '@grantline/contracts';
import { eventually } from '@grantline/testing';
import mongoose from 'mongoose';
import type { EventLogReader } from './event-log.reader';
import { GROUP_ROLES } from './grantline.client';
import type { GrantExplanation, GrantlineClient } from './grantline.client';
import type { HttpAnswer } from './platform.fixture';
import { SCENARIO_TIMEOUT_MS, START_TIMEOUT_MS } from './platform.fixture';
import type { Platform } from './platform.fixture';
import type { PostgresTarget } from './postgres.helper';
import { ScenarioHarness } from './scenario.harness';

const WAIT = { timeoutMs: 90_000, intervalMs: 100 };
const ROLE = GROUP_ROLES['orders-staging-read'];
const DURATIONS = ['PT10M', 'PT20M', 'PT30M'] as const;

interface Holder {
  readonly login: string;
  readonly token: string;
  requestId: string;
  grantId: string;
  expiresAt: Date;
}

describe('scenario 9: a killed scheduler still revokes every grant on time; a dropped audit rebuilds the same answers', () => {
  // This scenario counts the scheduler's timers: no certification campaign on a cadence adds one of its own.
  const noCampaigns = mkdtempSync(join(tmpdir(), 'grantline-no-campaigns-'));
  const scenario = new ScenarioHarness('restart', { groupRoles: [ROLE], eventLog: true, env: { approval: { APPROVAL_CAMPAIGNS_DIR: noCampaigns } } });
  let platform: Platform;
  let api: GrantlineClient;
  let pg: PostgresTarget;
  let log: EventLogReader;
  const holders: Holder[] = [];

  const timersStatus = async (): Promise<{ rebuilt: boolean; pending: number; fired: number }> => {
    const answer = await platform.call<{ rebuilt: boolean; pending: number; fired: number }>('scheduler', 'GET', '/v1/timers/status', {
      token: await api.tokenOf('operator'),
    });
    expect(answer.status).toBe(200);
    return answer.body;
  };
  // One query at a time: the helper holds one PostgreSQL connection, which does not queue concurrent queries.
  const members = async (): Promise<boolean[]> => {
    const answers: boolean[] = [];
    for (const holder of holders) answers.push(await pg.isMember(holder.login, ROLE));
    return answers;
  };

  beforeAll(async () => {
    ({ platform, api, pg, log } = await scenario.start());
    for (let i = 0; i < DURATIONS.length; i += 1) {
      const login = `e2e_dev${i}_${platform.runId}`;
      await pg.createLogin(login);
      const token = await platform.tokens.mint(login);
      await api.upsertHuman(login, `e2e_mgr_${platform.runId}`);
      holders.push({ login, token, requestId: '', grantId: '', expiresAt: new Date(0) });
    }
  }, START_TIMEOUT_MS);

  afterAll(() => scenario.close(), START_TIMEOUT_MS);

  it(
    'provisions three grants with different expiries',
    async () => {
      await platform.withLogs(async () => {
        for (const [i, holder] of holders.entries()) {
          holder.requestId = await api.submitOk(holder.token, {
            subject: { id: holder.login, kind: 'human' },
            entitlementIds: ['orders-staging-read'],
            justification: 'staging investigation',
            duration: DURATIONS[i],
          });
        }
        await eventually(async () => expect(await members()).toEqual([true, true, true]), WAIT);
        for (const holder of holders) {
          const explained = await eventually(async () => {
            const view = await api.request(holder.token, holder.requestId);
            expect(view.status).toBe('provisioned');
            const answer = await api.explain(view.grants[0]!.grantId);
            expect(answer.body.grant.expiresAt).toBeDefined();
            return answer.body;
          }, WAIT);
          holder.grantId = explained.grantId;
          holder.expiresAt = new Date(explained.grant.expiresAt ?? '');
        }
        expect(holders[0]!.expiresAt < holders[1]!.expiresAt && holders[1]!.expiresAt < holders[2]!.expiresAt).toBe(true);
      })();
    },
    SCENARIO_TIMEOUT_MS,
  );

  it(
    'after SIGKILL and a restart of the scheduler, revokes each grant at its own expiry, each timer firing once',
    async () => {
      await platform.withLogs(async () => {
        // The instance about to die holds the three expiry timers (derived from the grants on the log).
        await eventually(async () => expect((await timersStatus()).pending).toBe(holders.length), WAIT);
        const clockBefore = await api.schedulerNow();
        await platform.kill('scheduler');
        const restartMs = await platform.restart('scheduler');
        process.stdout.write(`scenario 9: scheduler SIGKILLed and ready again in ${restartMs} ms\n`);
        // The new instance rebuilt them by replaying the log; none has fired.
        expect(await timersStatus()).toMatchObject({ rebuilt: true, pending: holders.length, fired: 0 });
        // Its test clock resumed from the log: time does not run backwards across a crash.
        expect((await api.schedulerNow()).getTime()).toBeGreaterThanOrEqual(clockBefore.getTime());

        // Past the first expiry only: the first grant goes, the other two stay.
        await api.advanceSchedulerPast(holders[0]!.expiresAt);
        await eventually(async () => expect(await pg.isMember(holders[0]!.login, ROLE)).toBe(false), WAIT);
        expect(await members()).toEqual([false, true, true]);
        expect((await api.request(holders[1]!.token, holders[1]!.requestId)).status).toBe('provisioned');

        // Past the last: all gone.
        await api.advanceSchedulerPast(holders[2]!.expiresAt);
        await eventually(async () => expect(await members()).toEqual([false, false, false]), WAIT);
        for (const holder of holders) {
          await eventually(api.requestInStatus(holder.token, holder.requestId, 'revoked'), WAIT);
        }

        // Exactly one firing per grant's expiry timer, despite the crash and the replay.
        const fired = (await log.read([TOPICS.schedule]))
          .filter((event) => event.type === TimerFired.type)
          .map((event) => event.data as TimerFiredData)
          .filter((data) => data.kind === 'grant_expiry');
        for (const holder of holders) expect(fired.filter((data) => data.target.grantId === holder.grantId)).toHaveLength(1);
      })();
    },
    SCENARIO_TIMEOUT_MS,
  );

  it(
    'rebuilds the audit projections from the log after its database is dropped: the same answers as before',
    async () => {
      await platform.withLogs(async () => {
        const ask = async (): Promise<HttpAnswer[]> => [
          ...(await Promise.all(holders.map((holder) => api.timeline(holder.requestId)))),
          ...(await Promise.all(holders.map((holder) => api.explain(holder.grantId)))),
          ...(await Promise.all(holders.map((holder) => api.whoHasAccess({ subjectId: holder.login, includeEnded: true })))),
          await api.whoHasAccess({ entitlementId: 'orders-staging-read', includeEnded: true }),
        ];
        // The originals, once the audit has seen every ending — checked on the very answers kept, so none is partial.
        const original = await eventually(async () => {
          const answers = await ask();
          expect(answers.every((answer) => answer.status === 200)).toBe(true);
          const timelines = answers.slice(0, 3).map((answer) => answer.body as { status: string });
          const explanations = answers.slice(3, 6).map((answer) => answer.body as GrantExplanation);
          const grantLists = answers.slice(6).map((answer) => (answer.body as { grants: readonly { grantId: string; status: string }[] }).grants);
          expect(timelines.map((timeline) => timeline.status)).toEqual(['ended', 'ended', 'ended']);
          for (const explained of explanations) {
            expect(explained.ending?.reason).toBe('expiry');
            expect(explained.grant.revokedAt).toBeDefined();
          }
          const ours = grantLists.flat().filter((grant) => holders.some((holder) => holder.grantId === grant.grantId));
          expect(ours.length).toBe(6);
          expect(ours.every((grant) => grant.status === 'revoked')).toBe(true);
          return answers;
        }, WAIT);

        await platform.kill('audit');
        const connection = await mongoose.createConnection(process.env['MONGO_URL'] ?? '', { dbName: platform.database('audit') }).asPromise();
        try {
          await connection.dropDatabase();
          expect(await connection.db?.listCollections().toArray()).toEqual([]);
        } finally {
          await connection.close();
        }
        const restartMs = await platform.restart('audit');
        process.stdout.write(`scenario 9: audit restarted on an empty database, ready in ${restartMs} ms\n`);

        await eventually(async () => expect(await ask()).toEqual(original), WAIT);
      })();
    },
    SCENARIO_TIMEOUT_MS,
  );
});
