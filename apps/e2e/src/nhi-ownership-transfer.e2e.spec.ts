// Scenario 14: the owner of a CI pipeline's machine identity leaves (OWASP NHI1, ownerless NHIs). The identity source
// offboards them; an ownership transfer case opens for their manager (on the log); until someone accepts, the
// pipeline is frozen (policy denies its new request, saying so) and, per the ownership policy (ORPHANED_NHI_GRANTS,
// default revoke_now), its privileged grant is revoked in PostgreSQL. The manager accepts ownership and the pipeline
// can request again: auto-approved, then active in PostgreSQL.
import { GrantDeprovisioningRequested, IdentityCredentialsRotationFlagged, IdentityOwnershipTransferOpened, TOPICS } from '@grantline/contracts';
import type { IdentityOwnershipTransferOpenedData } from '@grantline/contracts';
import { eventually } from '@grantline/testing';
import { GROUP_ROLES } from './grantline.client';
import type { ApprovalRequestView, GrantlineClient } from './grantline.client';
import type { EventLogReader } from './event-log.reader';
import { SCENARIO_TIMEOUT_MS, START_TIMEOUT_MS } from './platform.fixture';
import type { Platform } from './platform.fixture';
import type { PostgresTarget } from './postgres.helper';
import { ScenarioHarness } from './scenario.harness';

const WAIT = { timeoutMs: 60_000, intervalMs: 100 };
const SECRETS = GROUP_ROLES['deploy-secrets-prod'];
const STAGING = GROUP_ROLES['orders-staging-read'];

interface TimelineView {
  readonly status: string;
  readonly timeline: readonly { readonly type: string; readonly summary: string }[];
}

describe('scenario 14: a CI pipeline whose owner left is frozen until the owner\u2019s manager takes ownership', () => {
  // No scheduler: the case's deadline (P14D) is not reached here; its timer is the scheduler's unit specs'.
  const scenario = new ScenarioHarness('nhiowner', {
    services: ['intake', 'policy', 'approval', 'provisioning', 'connector-postgres'],
    groupRoles: [SECRETS, STAGING],
    eventLog: true,
  });
  let platform: Platform;
  let api: GrantlineClient;
  let pg: PostgresTarget;
  let log: EventLogReader;
  let pipeline: string;
  let owner: string;
  let manager: string;
  let pipelineToken: string;
  let managerToken: string;
  /** The catalogue's owner of the deploy-secrets-prod entitlement (catalog/entitlements.yaml). */
  const resourceOwner = 'sam';

  beforeAll(async () => {
    ({ platform, api, pg, log } = await scenario.start());
    pipeline = `e2e_pipe_${platform.runId}`;
    owner = `e2e_powner_${platform.runId}`;
    manager = `e2e_pmgr_${platform.runId}`;
    const reviewer = `e2e_psec_${platform.runId}`;
    await pg.createLogin(pipeline);
    pipelineToken = await platform.tokens.mint(pipeline, { workload: true });
    managerToken = await platform.tokens.mint(manager);
    await api.upsertHuman(resourceOwner);
    await api.upsertHuman(manager);
    await api.upsertHuman(owner, manager);
    await api.upsertIdentity(reviewer, { kind: 'human', displayName: `E2E ${reviewer}`, attributes: { groups: 'security' } });
    await api.upsertIdentity(pipeline, {
      kind: 'ci_pipeline',
      displayName: `E2E release pipeline ${platform.runId}`,
      ownerId: owner,
      attributes: { repository: 'grantline/orders', scope: 'deploy-secrets-prod' },
    });

    // The pipeline holds privileged production access: its resource owner, its owner of record and security approve.
    const requestId = await api.submitOk(pipelineToken, {
      subject: { id: pipeline, kind: 'ci_pipeline' },
      entitlementIds: ['deploy-secrets-prod'],
      justification: 'release 2026.12 rotates the payment gateway secret',
      ticket: { system: 'jira', id: `REL-${platform.runId}` },
      duration: 'PT24H',
    });
    for (const [approver, stageId] of [
      [resourceOwner, 'resource_owner'],
      [owner, 'nhi_owner'],
      [reviewer, 'security'],
    ] as const) {
      const token = await platform.tokens.mint(approver);
      const taskId = await eventually(async () => {
        const answer = await api.approvalRequest(token, requestId);
        expect(answer.status).toBe(200);
        const task = (answer.body as ApprovalRequestView).tasks.find((candidate) => candidate.stageId === stageId && candidate.status === 'open');
        expect(task).toBeDefined();
        return task!.taskId;
      }, WAIT);
      expect((await api.decide(token, taskId, 'approve', 'release window agreed')).status).toBe(200);
    }
    await eventually(async () => expect(await pg.isMember(pipeline, SECRETS)).toBe(true), WAIT);
  }, START_TIMEOUT_MS);

  afterAll(() => scenario.close(), START_TIMEOUT_MS);

  const askForStagingReads = (): Promise<string> =>
    api.submitOk(pipelineToken, {
      subject: { id: pipeline, kind: 'ci_pipeline' },
      entitlementIds: ['orders-staging-read'],
      justification: 'integration tests read the staging orders',
      duration: 'PT8H',
    });

  it(
    'opens a case for the manager, freezes the pipeline, revokes its privileged grant; the manager accepts and it may request again',
    async () => {
      await platform.withLogs(async () => {
        const hrToken = await api.tokenOf('identity-source');
        const offboarded = await platform.call<{ ownedIdentityIds: string[]; ownershipTransfers: { identityId: string; transferId: string }[] }>(
          'intake',
          'POST',
          `/v1/identities/${owner}/offboard`,
          {
            token: hrToken,
            body: { reason: 'leaver' },
          },
        );
        expect(offboarded.status).toBe(202);
        expect(offboarded.body.ownedIdentityIds).toEqual([pipeline]);

        // The case, on the log: for the owner's manager, due in 14 days, the pipeline's grants revoked now.
        const openedEvent = await eventually(async () => {
          const events = await log.read([TOPICS.identities]);
          const found = events.find(
            (event) => event.type === IdentityOwnershipTransferOpened.type && (event.data as IdentityOwnershipTransferOpenedData).identityId === pipeline,
          );
          expect(found).toBeDefined();
          // Beside it, the flag that what the pipeline holds is to be rotated.
          expect(events.some((event) => event.type === IdentityCredentialsRotationFlagged.type && event.causationid === found!.causationid)).toBe(true);
          return found!;
        }, WAIT);
        const opened = openedEvent.data as IdentityOwnershipTransferOpenedData;
        expect(opened).toMatchObject({ previousOwnerId: owner, assigneeIds: [manager], reason: 'owner_offboarded', grantsDisposition: 'revoke_now' });
        expect(Date.parse(opened.dueAt) - Date.parse(opened.openedAt)).toBe(14 * 24 * 3_600_000);
        // The identity source was told the case's id in the answer to the offboarding.
        expect(offboarded.body.ownershipTransfers).toEqual([{ identityId: pipeline, transferId: opened.transferId }]);

        // Frozen: a new request for the pipeline is denied, and the reason says why.
        const frozenRequest = await askForStagingReads();
        await eventually(async () => {
          const answer = await platform.call<TimelineView>('intake', 'GET', `/v1/requests/${frozenRequest}`, { token: pipelineToken });
          expect(answer.body.status).toBe('denied');
          expect(answer.body.timeline.map((entry) => entry.summary).join('\n')).toMatch(
            new RegExp(`machine identity "${pipeline}" is frozen: its owner "${owner}" is offboarded`),
          );
        }, WAIT);

        // Per the ownership policy, the privileged grant is revoked in PostgreSQL, the case being the cause.
        await eventually(async () => expect(await pg.isMember(pipeline, SECRETS)).toBe(false), WAIT);
        await eventually(async () => {
          const removal = (await log.read([TOPICS.grants])).find(
            (event) => event.type === GrantDeprovisioningRequested.type && event.causationid === openedEvent.id,
          );
          expect(removal?.data).toMatchObject({ reason: 'offboarding', triggeredBy: openedEvent.id });
        }, WAIT);

        // The manager takes ownership (the case reaches the intake's store from the log: retried until it is there).
        await eventually(async () => {
          const accepted = await platform.call('intake', 'POST', `/v1/identities/${pipeline}/owner-transfers/${opened.transferId}/accept`, {
            token: managerToken,
            body: { comment: 'the release team keeps the pipeline' },
          });
          expect(accepted.status).toBe(202);
        }, WAIT);

        // No longer frozen: the same request is auto-approved and active in PostgreSQL.
        const thawedRequest = await askForStagingReads();
        await eventually(api.requestInStatus(pipelineToken, thawedRequest, 'provisioned'), WAIT);
        expect(await pg.isMember(pipeline, STAGING)).toBe(true);
      })();
    },
    SCENARIO_TIMEOUT_MS,
  );
});
