// Scenario 8: invalid requests (missing subject, unknown entitlement, negative duration, 1 MB justification) are
// refused at the front door with 400 problem+json naming the field, and nothing reaches any topic.
import { TOPICS } from '@grantline/contracts';
import { eventually } from '@grantline/testing';
import type { EventLogReader } from './event-log.reader';
import { SCENARIO_TIMEOUT_MS, START_TIMEOUT_MS } from './platform.fixture';
import type { Platform } from './platform.fixture';
import type { GrantlineClient } from './grantline.client';
import { ScenarioHarness } from './scenario.harness';

interface Problem {
  readonly status: number;
  readonly errors?: readonly { readonly field: string; readonly message: string }[];
}

interface Accepted {
  readonly requestId: string;
  readonly eventId: string;
}

describe('scenario 8: invalid requests are refused and leave no trace on the log', () => {
  const scenario = new ScenarioHarness('invalid', { services: ['intake', 'policy', 'audit'], eventLog: true });
  let platform: Platform;
  let api: GrantlineClient;
  let log: EventLogReader;
  let actor: string;
  let token: string;

  const submission = (overrides: Record<string, unknown>): Record<string, unknown> => ({
    subject: { id: actor, kind: 'human' },
    entitlementIds: ['orders-staging-read'],
    justification: 'investigate the staging checkout bug',
    duration: 'PT1H',
    ...overrides,
  });

  beforeAll(async () => {
    ({ platform, api, log } = await scenario.start());
    actor = `e2e_dev_${platform.runId}`;
    token = await platform.tokens.mint(actor);
  }, START_TIMEOUT_MS);

  afterAll(() => scenario.close(), START_TIMEOUT_MS);

  it.each([
    ['a missing subject', { subject: undefined }, 'subject'],
    ['an unknown entitlement', { entitlementIds: ['no-such-entitlement'] }, 'entitlementIds.0'],
    ['a negative duration', { duration: '-PT1H' }, 'duration'],
    ['a 1 MB justification', { justification: 'x'.repeat(1024 * 1024) }, 'justification'],
  ])('answers 400 problem+json naming the field for %s', async (_case, overrides, field) => {
    await platform.withLogs(async () => {
      const answer = await platform.call<Problem>('intake', 'POST', '/v1/requests', { token, body: submission(overrides) });
      expect(answer.status).toBe(400);
      expect(answer.contentType).toMatch(/^application\/problem\+json/);
      expect(answer.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field })]));
    }, ['intake'])();
  });

  it(
    'wrote no event for those requests on any topic, while a valid one from the same actor is on the log',
    async () => {
      await platform.withLogs(async () => {
        expect(await log.byActor(actor)).toEqual([]);

        // The control: the same reader does see this actor's events, so the empty result above means something.
        const valid = await platform.call<Accepted>('intake', 'POST', '/v1/requests', { token, body: submission({}) });
        expect(valid.status).toBe(202);
        const events = await log.byActor(actor, [TOPICS.requests]);
        expect(events.map((event) => event.id)).toEqual([valid.body.eventId]);

        // The audit saw the valid request (it reads every topic), and only that one.
        await eventually(
          async () => {
            const timeline = await platform.call<{ entries: readonly { eventId: string }[] }>(
              'audit',
              'GET',
              `/v1/audit/requests/${valid.body.requestId}/timeline`,
              { token: await api.tokenOf('auditor') },
            );
            expect(timeline.status).toBe(200);
            expect(timeline.body.entries[0]?.eventId).toBe(valid.body.eventId);
          },
          { timeoutMs: 30_000, intervalMs: 250 },
        );
      })();
    },
    SCENARIO_TIMEOUT_MS,
  );
});
