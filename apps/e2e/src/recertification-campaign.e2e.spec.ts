// Scenario 16: a quarterly recertification campaign over high-sensitivity grants, a CI pipeline among them. The
// manager certifies one, revokes one (gone from PostgreSQL), ignores one (revoked when the deadline passes) and cannot
// review their own grant (403). The campaign's definition is the scenario's own (a deadline of an hour, so the
// scheduler's test clock passes it in a step); everything else is the platform as shipped.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '@grantline/testing';
import { GROUP_ROLES } from './grantline.client';
import type { ApprovalRequestView, GrantlineClient } from './grantline.client';
import { SCENARIO_TIMEOUT_MS, START_TIMEOUT_MS } from './platform.fixture';
import type { Platform } from './platform.fixture';
import type { PostgresTarget } from './postgres.helper';
import { ScenarioHarness } from './scenario.harness';

const WAIT = { timeoutMs: 90_000, intervalMs: 200 };
const WRITE = GROUP_ROLES['orders-prod-write'];
const SECRETS = GROUP_ROLES['deploy-secrets-prod'];

interface ItemView {
  readonly itemId: string;
  readonly grantId: string;
  readonly beneficiaryId: string;
  readonly beneficiaryKind: string;
  readonly currentReviewerIds: readonly string[];
  readonly status: string;
  readonly lineage: {
    readonly request?: { readonly justification?: string };
    readonly approvals: readonly { readonly approverId: string }[];
    readonly policyDecision?: { readonly bundleDigest: string };
  };
}
interface CampaignView {
  readonly campaignId: string;
  readonly dueAt: string;
  readonly status: string;
  readonly counts: Record<string, number>;
  readonly items: readonly ItemView[];
}

const campaignsDir = mkdtempSync(join(tmpdir(), 'e2e-campaigns-'));
writeFileSync(
  join(campaignsDir, 'quarterly.yaml'),
  [
    'definitionId: e2e-quarterly',
    'name: Quarterly review of high-sensitivity access',
    'triggers: [schedule, on_demand]',
    'cadence: P13W',
    'scope:',
    '  sensitivities: [high, critical]',
    '  identityKinds: [human, service_account, ci_pipeline, workload, api_key, ai_agent]',
    'reviewer: { kind: manager }',
    'deadline: PT1H',
    'onNoAnswer: escalate',
    '',
  ].join('\n'),
);

describe('scenario 16: a quarterly recertification campaign, NHIs included', () => {
  const scenario = new ScenarioHarness('recert', { groupRoles: [WRITE, SECRETS], env: { approval: { APPROVAL_CAMPAIGNS_DIR: campaignsDir } } });
  let platform: Platform;
  let api: GrantlineClient;
  let pg: PostgresTarget;
  const ids: Record<'director' | 'manager' | 'kept' | 'revoked' | 'pipeline' | 'security', string> = {
    director: '',
    manager: '',
    kept: '',
    revoked: '',
    pipeline: '',
    security: '',
  };
  const tokens = new Map<string, string>();
  const tokenOf = (id: string): string => tokens.get(id) ?? '';
  let campaign: CampaignView;

  /** Every approver answers whatever task of the request they are eligible for, until the grant is provisioned. */
  const grantedAfterApprovals = async (requestId: string, requester: string, approvers: readonly string[]): Promise<string> => {
    const view = await eventually(async () => {
      for (const approver of approvers) {
        const answer = await api.approvalRequest(tokenOf(approver), requestId);
        if (answer.status !== 200) continue;
        const tasks = (answer.body as ApprovalRequestView).tasks.filter((task) => task.status === 'open' && task.eligibleApproverIds?.includes(approver));
        for (const task of tasks) await api.decide(tokenOf(approver), task.taskId, 'approve', 'still needed for the release train');
      }
      return api.requestInStatus(tokenOf(requester), requestId, 'provisioned')();
    }, WAIT);
    return view.grants[0]!.grantId;
  };

  const ask = (requester: string, subject: { id: string; kind: string }, entitlementId: string, duration: string): Promise<string> =>
    api.submitOk(tokenOf(requester), { subject, entitlementIds: [entitlementId], justification: `${subject.id} works on the orders release`, duration });

  const itemOf = (beneficiaryId: string): ItemView => {
    const item = campaign.items.find((candidate) => candidate.beneficiaryId === beneficiaryId);
    if (!item) throw new Error(`no item for ${beneficiaryId}`);
    return item;
  };
  const answer = (reviewer: string, item: ItemView, body: Record<string, unknown>) =>
    platform.call('approval', 'POST', `/v1/campaigns/${encodeURIComponent(campaign.campaignId)}/items/${encodeURIComponent(item.itemId)}`, {
      token: tokenOf(reviewer),
      body,
    });

  beforeAll(async () => {
    ({ platform, api, pg } = await scenario.start());
    for (const role of Object.keys(ids) as (keyof typeof ids)[]) ids[role] = `e2e_${role}_${platform.runId}`;
    for (const id of Object.values(ids)) tokens.set(id, await platform.tokens.mint(id, id === ids.pipeline ? { workload: true } : {}));
    // The catalogue's owners of the entitlements (catalog/entitlements.yaml) approve as resource owners.
    for (const owner of ['dana', 'sam']) {
      tokens.set(owner, await platform.tokens.mint(owner));
      await api.upsertHuman(owner);
    }
    await api.upsertHuman(ids.director);
    await api.upsertHuman(ids.manager, ids.director);
    await api.upsertHuman(ids.kept, ids.manager);
    await api.upsertHuman(ids.revoked, ids.manager);
    await api.upsertIdentity(ids.security, { kind: 'human', displayName: 'E2E security', attributes: { groups: 'security' } });
    await api.upsertIdentity(ids.pipeline, { kind: 'ci_pipeline', displayName: 'E2E release pipeline', ownerId: ids.kept });
    for (const login of [ids.manager, ids.kept, ids.revoked, ids.pipeline]) await pg.createLogin(login);
  }, START_TIMEOUT_MS);

  afterAll(() => scenario.close(), START_TIMEOUT_MS);

  it(
    'snapshots the live high-sensitivity grants, the pipeline’s among them, each for the holder’s manager',
    async () => {
      await platform.withLogs(async () => {
        const person = (id: string) => ({ id, kind: 'human' });
        const grants = await Promise.all([
          ask(ids.kept, person(ids.kept), 'orders-prod-write', 'P1D').then((r) => grantedAfterApprovals(r, ids.kept, [ids.manager, 'dana'])),
          ask(ids.revoked, person(ids.revoked), 'orders-prod-write', 'P1D').then((r) => grantedAfterApprovals(r, ids.revoked, [ids.manager, 'dana'])),
          ask(ids.manager, person(ids.manager), 'orders-prod-write', 'P1D').then((r) => grantedAfterApprovals(r, ids.manager, [ids.director, 'dana'])),
          ask(ids.pipeline, { id: ids.pipeline, kind: 'ci_pipeline' }, 'deploy-secrets-prod', 'PT12H').then((r) =>
            grantedAfterApprovals(r, ids.pipeline, ['sam', ids.kept, ids.security]),
          ),
        ]);
        expect(grants).toHaveLength(4);
        await eventually(async () => expect(await pg.isMember(ids.pipeline, SECRETS)).toBe(true), WAIT);

        // Security starts the quarterly run now rather than waiting for its cadence: the snapshot holds every grant
        // activated before the start was asked for.
        const started = await platform.call<CampaignView>('approval', 'POST', '/v1/campaigns', {
          token: await api.tokenOf('security'),
          body: { definitionId: 'e2e-quarterly' },
        });
        expect(started.status).toBe(201);
        campaign = started.body;
        expect(campaign.items.map((item) => [item.beneficiaryId, item.beneficiaryKind, item.currentReviewerIds]).sort()).toEqual(
          [
            [ids.kept, 'human', [ids.manager]],
            [ids.revoked, 'human', [ids.manager]],
            // the pipeline's owner is `kept`: its owner's manager reviews it
            [ids.pipeline, 'ci_pipeline', [ids.manager]],
            [ids.manager, 'human', [ids.director]],
          ].sort(),
        );
        const mine = await platform.call<{ items: ItemView[] }>('approval', 'GET', '/v1/certifications', { token: tokenOf(ids.manager) });
        expect(mine.status).toBe(200);
        expect(mine.body.items.map((item) => item.beneficiaryId).sort()).toEqual([ids.kept, ids.revoked, ids.pipeline].sort());
        // the lineage: why it was asked for, who approved, which bundle decided
        expect(mine.body.items.find((item) => item.beneficiaryId === ids.kept)?.lineage).toMatchObject({
          request: { justification: `${ids.kept} works on the orders release` },
          approvals: expect.arrayContaining([expect.objectContaining({ approverId: ids.manager }), expect.objectContaining({ approverId: 'dana' })]),
          policyDecision: { bundleDigest: expect.stringMatching(/^[a-f0-9]{64}$/) },
        });
      })();
    },
    SCENARIO_TIMEOUT_MS,
  );

  it(
    'the manager certifies one, revokes one (gone from PostgreSQL) and may not review their own grant (403)',
    async () => {
      await platform.withLogs(async () => {
        expect((await answer(ids.manager, itemOf(ids.kept), { decision: 'certify', comment: 'on the release team' })).status).toBe(200);
        expect((await answer(ids.manager, itemOf(ids.revoked), { decision: 'revoke', comment: 'moved off the orders service' })).status).toBe(200);
        const own = await answer(ids.manager, itemOf(ids.manager), { decision: 'certify' });
        expect(own.status).toBe(403);

        await eventually(async () => expect(await pg.isMember(ids.revoked, WRITE)).toBe(false), WAIT);
        expect(await pg.isMember(ids.kept, WRITE)).toBe(true);
        // the refusal is on the record, not just answered
        await eventually(async () => {
          const denials = await api.accessDenials(ids.manager);
          expect(denials.body.denials).toContainEqual(
            expect.objectContaining({ service: 'approval', status: 403, objectRef: `item:${itemOf(ids.manager).itemId}` }),
          );
        }, WAIT);
      })();
    },
    SCENARIO_TIMEOUT_MS,
  );

  it(
    'at the deadline the ignored items are revoked (privileged access is never escalated) and the campaign completes',
    async () => {
      await platform.withLogs(async () => {
        await api.advanceSchedulerPast(new Date(campaign.dueAt));
        await eventually(async () => expect(await pg.isMember(ids.pipeline, SECRETS)).toBe(false), WAIT);
        await eventually(async () => expect(await pg.isMember(ids.manager, WRITE)).toBe(false), WAIT);
        expect(await pg.isMember(ids.kept, WRITE)).toBe(true);
        const done = await eventually(async () => {
          const view = await platform.call<CampaignView>('approval', 'GET', `/v1/campaigns/${encodeURIComponent(campaign.campaignId)}`, {
            token: await api.tokenOf('auditor'),
          });
          expect(view.body.status).toBe('completed');
          return view.body;
        }, WAIT);
        expect(done.counts).toMatchObject({ items: 4, certified: 1, revoked: 3, lapsed: 2, open: 0 });
        // The audit's record of the campaign: items, decided, revoked, overdue, the refused review.
        await eventually(async () => {
          const audited = await platform.call<{ counts: Record<string, number>; blockedAttempts: number }>(
            'audit',
            'GET',
            `/v1/audit/campaigns/${encodeURIComponent(campaign.campaignId)}`,
            { token: await api.tokenOf('auditor') },
          );
          expect(audited.status).toBe(200);
          expect(audited.body.counts).toEqual({ items: 4, decided: 2, certified: 1, revoked: 3, reduced: 0, overdue: 2, revokedUnanswered: 2, open: 0 });
          expect(audited.body.blockedAttempts).toBe(1);
        }, WAIT);
      })();
    },
    SCENARIO_TIMEOUT_MS,
  );
});
