import {
  ApprovalBreakGlassGranted,
  ApprovalDecisionRecorded,
  ApprovalEscalated,
  ApprovalRequestApproved,
  ApprovalRequestDenied,
  ApprovalReviewOpened,
  ApprovalSelfApprovalBlocked,
  ApprovalTaskOpened,
} from '@grantline/contracts';
import type { Envelope } from '@grantline/contracts';
import { decide } from './approval.decide';
import type { ApprovalCommand, DecideContext, DecideResult } from './approval.decide';
import { evolve } from './approval.evolve';
import { initialState, statusOf, taskOf } from './approval.state';
import type { RequestApprovalState } from './approval.state';
import type { ApprovalPolicy } from './approval.policy';
import { catalogEvent, deadlineFired, decided, directoryOf, organisation, specContext, stage, submitted, withdrawn } from '../testing/approval-scenario';

const REQ = 'req-1';
const DECIDED_AT = '2026-01-05T09:00:01.000Z';
const AT = '2026-01-05T11:00:00.000Z';
const hoursAfter = (iso: string, hours: number): string => new Date(Date.parse(iso) + hours * 3_600_000).toISOString();

const context = (policy: Partial<ApprovalPolicy> = {}): DecideContext => specContext(directoryOf([...organisation(), catalogEvent()]), policy);
const given = (...events: Envelope[]): RequestApprovalState => events.reduce(evolve, initialState(REQ));
const route: ApprovalCommand = { kind: 'route' };
const approve = (taskId: string, approverId: string, decision: 'approve' | 'deny' = 'approve', at = AT): ApprovalCommand => ({
  kind: 'decide_task',
  taskId,
  approverId,
  decision,
  at,
});
const types = (result: DecideResult): string[] => result.events.map((event) => event.type);
/** Folds a result's events into the state, as the service does once they are published. */
const then = (state: RequestApprovalState, result: DecideResult): RequestApprovalState => result.events.reduce(evolve, state);
const dataOf = <T>(result: DecideResult, type: string): T => result.events.find((event) => event.type === type)?.data as T;

describe('approval decide/evolve', () => {
  describe('routing a policy decision', () => {
    it('auto_approve: approved at once, each grant ending at now + min(requested, policy max, entitlement max)', () => {
      // Given a request for 8h of orders-read and 7 days of orders-write, policy max 1 day
      const state = given(
        submitted(REQ, { items: { entitlementIds: ['orders-read'] }, duration: 'PT8H' }),
        decided(REQ, { effect: 'auto_approve', constraints: { maxDuration: 'P1D', breakGlassAllowed: false, recertificationEvery: 'P90D' } }),
      );
      const result = decide(route, state, context());
      expect(types(result)).toEqual([ApprovalRequestApproved.type]);
      expect(result.events[0]).toMatchObject({
        correlationid: REQ,
        subject: REQ,
        time: DECIDED_AT,
        actor: { kind: 'service', id: 'approval' },
        data: {
          beneficiaryId: 'alice',
          grants: [{ grantId: 'req-1:orders-read', entitlementId: 'orders-read', expiresAt: hoursAfter(DECIDED_AT, 8) }],
          basis: { kind: 'auto_approved', decisionId: 'dec-req-1', approvals: [] },
          recertificationEvery: 'P90D',
        },
      });

      const longer = given(
        submitted(REQ, { items: { entitlementIds: ['orders-read', 'orders-write'] }, duration: 'P7D' }),
        decided(REQ, { effect: 'auto_approve' }),
      );
      const grants = dataOf<{ grants: { expiresAt: string }[] }>(decide(route, longer, context()), ApprovalRequestApproved.type).grants;
      // orders-read: the policy's 1 day wins; orders-write: its own 12h maximum wins
      expect(grants.map((grant) => grant.expiresAt)).toEqual([hoursAfter(DECIDED_AT, 24), hoursAfter(DECIDED_AT, 12)]);
    });

    it('deny: request-denied with the policy reasons', () => {
      const result = decide(route, given(submitted(REQ), decided(REQ, { effect: 'deny', reasons: ['least privilege: write is too broad'] })), context());
      expect(types(result)).toEqual([ApprovalRequestDenied.type]);
      expect(result.events[0]?.data).toEqual({ requestId: REQ, basis: 'policy', decisionId: 'dec-req-1', reasons: ['least privilege: write is too broad'] });
    });

    it('require_approval: opens the first stage only, approvers resolved from identities and catalogue, due per the stage timeout', () => {
      const state = given(
        submitted(REQ),
        decided(REQ, { route: { stages: [stage('owner', [{ resolver: 'resource_owner' }], 1, 'PT4H'), stage('security', [{ resolver: 'security' }])] } }),
      );
      const result = decide(route, state, context());
      expect(types(result)).toEqual([ApprovalTaskOpened.type]);
      expect(result.events[0]?.data).toEqual({
        taskId: 'req-1:owner',
        requestId: REQ,
        stageId: 'owner',
        eligibleApproverIds: ['dave'],
        quorum: 1,
        dueAt: hoursAfter(DECIDED_AT, 4),
      });
    });

    it.each([
      ['manager', [{ resolver: 'manager' as const }], ['bob']],
      ['security', [{ resolver: 'security' as const }], ['sec-1', 'sec-2']],
      ['named group members', [{ resolver: 'group' as const, group: 'sre' }], ['sec-2']],
      ['ids resolved by the policy', [{ resolver: 'resource_owner' as const, resolvedIdentityIds: ['erin'] }], ['erin']],
    ])('resolves %s', (_name, approvers, expected) => {
      const result = decide(route, given(submitted(REQ), decided(REQ, { route: { stages: [stage('s1', approvers)] } })), context());
      expect(dataOf<{ eligibleApproverIds: string[]; dueAt: string }>(result, ApprovalTaskOpened.type)).toMatchObject({
        eligibleApproverIds: expected,
        dueAt: hoursAfter(DECIDED_AT, 48),
      });
    });

    it('resolves the NHI owner of record for a service account, and never the requester', () => {
      // Given bob (alice's manager) asks for alice: bob cannot approve as manager, security stands in
      const forAlice = given(submitted(REQ, { requesterId: 'bob' }), decided(REQ));
      expect(dataOf<{ eligibleApproverIds: string[] }>(decide(route, forAlice, context()), ApprovalTaskOpened.type).eligibleApproverIds).toEqual([
        'sec-1',
        'sec-2',
      ]);
      // Given alice asks for the svc-orders service account owned by carol
      const forNhi = given(
        submitted(REQ, { subject: { id: 'svc-orders', kind: 'service_account' } }),
        decided(REQ, { route: { stages: [stage('owner', [{ resolver: 'nhi_owner' }]), stage('security', [{ resolver: 'security' }])] } }),
      );
      expect(dataOf<{ eligibleApproverIds: string[] }>(decide(route, forNhi, context()), ApprovalTaskOpened.type).eligibleApproverIds).toEqual(['carol']);
    });

    it('denies (sod_conflict) when no stage approver can be found, not even in the security group', () => {
      const result = decide(route, given(submitted(REQ), decided(REQ, { route: { stages: [stage('four', [{ resolver: 'manager' }], 4)] } })), context());
      expect(types(result)).toEqual([ApprovalRequestDenied.type]);
      expect(result.events[0]?.data).toMatchObject({ basis: 'sod_conflict' });
    });

    it('waits for both the request and the decision, whichever comes first', () => {
      const decisionOnly = given(decided(REQ, { effect: 'auto_approve' }));
      expect(statusOf(decisionOnly)).toBe('awaiting_request');
      expect(decide(route, decisionOnly, context()).events).toEqual([]);
      const both = evolve(decisionOnly, submitted(REQ));
      expect(types(decide(route, both, context()))).toEqual([ApprovalRequestApproved.type]);
    });

    it('break-glass: granted at once with the hard maximum, a post-incident review for a named reviewer, no notification (the notifier derives it)', () => {
      const state = given(
        submitted(REQ, { emergency: { breakGlass: true, incidentRef: { system: 'jira', id: 'INC-7' } }, duration: 'PT8H' }),
        decided(REQ, { effect: 'auto_approve', constraints: { maxDuration: 'P1D', breakGlassAllowed: true } }),
      );
      const result = decide(route, state, context());
      expect(types(result)).toEqual([ApprovalBreakGlassGranted.type, ApprovalReviewOpened.type]);
      const reviewDueAt = hoursAfter(DECIDED_AT, 48);
      expect(result.events[0]?.data).toEqual({
        requestId: REQ,
        beneficiaryId: 'alice',
        incidentRef: { system: 'jira', id: 'INC-7' },
        grants: [{ grantId: 'req-1:orders-read', entitlementId: 'orders-read', expiresAt: hoursAfter(DECIDED_AT, 4) }],
        reviewDueAt,
        decisionId: 'dec-req-1',
      });
      expect(result.events[1]?.data).toEqual({
        reviewId: 'req-1:post-incident-review',
        kind: 'break_glass_post_incident',
        requestId: REQ,
        grantIds: ['req-1:orders-read'],
        reviewerIds: ['bob'],
        dueAt: reviewDueAt,
      });
      expect(statusOf(then(state, result))).toBe('break_glass');
    });

    it('an emergency the decision does not allow as break-glass goes the normal way', () => {
      const state = given(
        submitted(REQ, { emergency: { breakGlass: true, incidentRef: { system: 'jira', id: 'INC-7' } } }),
        decided(REQ, { constraints: { maxDuration: 'P1D', breakGlassAllowed: false } }),
      );
      expect(types(decide(route, state, context()))).toEqual([ApprovalTaskOpened.type]);
    });
  });

  describe('approver decisions', () => {
    const opened = (stages = [stage('manager', [{ resolver: 'manager' }])], requestOverrides = {}): RequestApprovalState => {
      const state = given(submitted(REQ, requestOverrides), decided(REQ, { route: { stages } }));
      return then(state, decide(route, state, context()));
    };

    it('the eligible approver approves the only stage: decision recorded, request approved with the approvals as basis', () => {
      const result = decide(approve('req-1:manager', 'bob'), opened(), context());
      expect(types(result)).toEqual([ApprovalDecisionRecorded.type, ApprovalRequestApproved.type]);
      expect(result.events[0]).toMatchObject({ actor: { kind: 'user', id: 'bob' }, data: { approverId: 'bob', decision: 'approve', stageId: 'manager' } });
      expect(result.events[1]?.causationid).toBe(result.events[0]?.id);
      expect(result.events[1]?.data).toMatchObject({
        grants: [{ grantId: 'req-1:orders-read', expiresAt: hoursAfter(AT, 8) }],
        basis: { kind: 'approvals', decisionId: 'dec-req-1', approvals: [{ taskId: 'req-1:manager', stageId: 'manager', approverId: 'bob', decidedAt: AT }] },
      });
    });

    it.each([
      ['requester', 'alice', {}],
      ['beneficiary', 'carol', { requesterId: 'bob', subject: { id: 'carol', kind: 'human' } }],
    ])('the %s is refused as self-approval, and the attempt is recorded', (relation, approverId, overrides) => {
      const state = opened(undefined, overrides);
      const result = decide(approve(`req-1:manager`, approverId), state, context());
      expect(result).toMatchObject({ accepted: false, rejection: 'self_approval' });
      expect(types(result)).toEqual([ApprovalSelfApprovalBlocked.type]);
      expect(result.events[0]?.data).toEqual({ taskId: 'req-1:manager', requestId: REQ, attemptedById: approverId, relation, attemptedAt: AT });
      // the request stays pending
      expect(statusOf(then(state, result))).toBe('pending');
    });

    it('the owner of the beneficiary NHI is refused outside the owner-of-record stage, accepted in it', () => {
      const state = opened([stage('owner', [{ resolver: 'nhi_owner' }]), stage('security', [{ resolver: 'security' }])], {
        subject: { id: 'svc-orders', kind: 'service_account' },
      });
      const owner = decide(approve('req-1:owner', 'carol'), state, context());
      expect(types(owner)).toEqual([ApprovalDecisionRecorded.type, ApprovalTaskOpened.type]);
      const next = then(state, owner);
      const blocked = decide(approve('req-1:security', 'carol'), next, context());
      expect(blocked).toMatchObject({ accepted: false, rejection: 'self_approval' });
      expect(blocked.events[0]?.data).toMatchObject({ relation: 'nhi_owner' });
    });

    it('someone not eligible for the task is refused with nothing recorded', () => {
      expect(decide(approve('req-1:manager', 'erin'), opened(), context())).toEqual({
        accepted: false,
        rejection: 'not_eligible',
        message: 'erin is not an eligible approver of task req-1:manager',
        events: [],
      });
    });

    it('an unknown task is refused as unknown', () => {
      expect(decide(approve('req-1:nope', 'bob'), opened(), context())).toMatchObject({ accepted: false, rejection: 'unknown_task' });
    });

    it('a quorum counts distinct approvers: the same approver twice is one vote', () => {
      let state = opened([stage('security', [{ resolver: 'security' }], 2)]);
      const first = decide(approve('req-1:security', 'sec-1'), state, context());
      expect(types(first)).toEqual([ApprovalDecisionRecorded.type]);
      state = then(state, first);
      expect(decide(approve('req-1:security', 'sec-1'), state, context())).toEqual({ accepted: true, events: [] });
      expect(decide(approve('req-1:security', 'sec-1', 'deny'), state, context())).toMatchObject({ accepted: false, rejection: 'already_decided' });
      expect(statusOf(state)).toBe('pending');
      const second = decide(approve('req-1:security', 'sec-2'), state, context());
      expect(types(second)).toEqual([ApprovalDecisionRecorded.type, ApprovalRequestApproved.type]);
      expect(dataOf<{ basis: { approvals: unknown[] } }>(second, ApprovalRequestApproved.type).basis.approvals).toHaveLength(2);
    });

    it('a deny ends the request', () => {
      const result = decide(approve('req-1:manager', 'bob', 'deny'), opened(), context());
      expect(types(result)).toEqual([ApprovalDecisionRecorded.type, ApprovalRequestDenied.type]);
      expect(result.events[1]?.data).toMatchObject({ basis: 'approver', deniedBy: 'bob' });
    });

    it('stages run in order, and one person cannot approve two stages', () => {
      let state = opened([stage('sre', [{ resolver: 'group', group: 'sre' }]), stage('security', [{ resolver: 'security' }])]);
      const first = decide(approve('req-1:sre', 'sec-2'), state, context());
      expect(types(first)).toEqual([ApprovalDecisionRecorded.type, ApprovalTaskOpened.type]);
      expect(first.events[1]?.data).toMatchObject({ taskId: 'req-1:security', eligibleApproverIds: ['sec-1', 'sec-2'], dueAt: hoursAfter(AT, 48) });
      state = then(state, first);
      expect(decide(approve('req-1:security', 'sec-2'), state, context())).toMatchObject({ accepted: false, rejection: 'not_eligible' });
      expect(types(decide(approve('req-1:security', 'sec-1'), state, context()))).toEqual([ApprovalDecisionRecorded.type, ApprovalRequestApproved.type]);
    });

    it('decisions after the request ended, or after a withdrawal, are refused', () => {
      const state = opened();
      const ended = then(state, decide(approve('req-1:manager', 'bob', 'deny'), state, context()));
      expect(decide(approve('req-1:manager', 'bob'), ended, context())).toMatchObject({ accepted: false, rejection: 'request_ended' });
      const gone = evolve(state, withdrawn(REQ));
      expect(statusOf(gone)).toBe('withdrawn');
      expect(taskOf(gone, 'req-1:manager')?.status).toBe('closed');
      expect(decide(approve('req-1:manager', 'bob'), gone, context())).toMatchObject({ accepted: false, rejection: 'request_withdrawn', events: [] });
    });
  });

  describe('authorizing an answer before it is read (authorize_task)', () => {
    const authorize = (taskId: string, approverId: string): ApprovalCommand => ({ kind: 'authorize_task', taskId, approverId, at: AT });
    const opened = (stages = [stage('manager', [{ resolver: 'manager' }])], requestOverrides = {}): RequestApprovalState => {
      const state = given(submitted(REQ, requestOverrides), decided(REQ, { route: { stages } }));
      return then(state, decide(route, state, context()));
    };

    it('lets the eligible approver through with nothing recorded', () => {
      expect(decide(authorize('req-1:manager', 'bob'), opened(), context())).toEqual({ accepted: true, events: [] });
    });

    it('refuses someone not eligible as not_eligible, recording nothing in the domain (the edge records the refusal)', () => {
      expect(decide(authorize('req-1:manager', 'erin'), opened(), context())).toEqual({
        accepted: false,
        rejection: 'not_eligible',
        message: 'erin is not an eligible approver of task req-1:manager',
        events: [],
      });
    });

    it('records a self-approval attempt exactly as decide_task does', () => {
      const state = opened();
      const authorized = decide(authorize('req-1:manager', 'alice'), state, context());
      const decided = decide(approve('req-1:manager', 'alice'), state, context());
      expect(authorized).toMatchObject({ accepted: false, rejection: 'self_approval' });
      expect(authorized).toEqual(decided);
    });

    it('lets an approver who already answered through (a repeat is decide_task\'s to judge), and refuses after the end', () => {
      let state = opened([stage('security', [{ resolver: 'security' }], 2)]);
      state = then(state, decide(approve('req-1:security', 'sec-1'), state, context()));
      expect(decide(authorize('req-1:security', 'sec-1'), state, context())).toEqual({ accepted: true, events: [] });
      const ended = then(state, decide(approve('req-1:security', 'sec-2', 'deny'), state, context()));
      expect(decide(authorize('req-1:security', 'sec-1'), ended, context())).toMatchObject({ accepted: false, rejection: 'request_ended' });
      expect(decide(authorize('req-1:nope', 'sec-1'), ended, context())).toMatchObject({ accepted: false, rejection: 'unknown_task' });
    });
  });

  describe('deadlines', () => {
    const opened = (): RequestApprovalState => {
      const state = given(submitted(REQ), decided(REQ));
      return then(state, decide(route, state, context()));
    };
    const fired = (taskId: string, at: string): ApprovalCommand => {
      const timer = deadlineFired(REQ, taskId, at);
      return { kind: 'deadline', taskId, timerEventId: timer.id, firedAt: timer.data.firedAt };
    };
    const DUE = hoursAfter(DECIDED_AT, 48);

    it('by default escalates an unanswered task once to the security group, then denies on the next deadline', () => {
      const state = opened();
      const escalation = decide(fired('req-1:manager', DUE), state, context());
      expect(types(escalation)).toEqual([ApprovalEscalated.type, ApprovalTaskOpened.type]);
      expect(escalation.events[0]?.data).toEqual({
        taskId: 'req-1:manager',
        requestId: REQ,
        stageId: 'manager',
        reason: 'deadline_passed',
        escalatedToIds: ['sec-1', 'sec-2'],
        newTaskId: 'req-1:manager:escalated',
      });
      expect(escalation.events[1]?.data).toMatchObject({ escalatedFromTaskId: 'req-1:manager', quorum: 1, dueAt: hoursAfter(DUE, 48) });
      const escalated = then(state, escalation);
      // the original approver can no longer answer; the security group can
      expect(decide(approve('req-1:manager', 'bob'), escalated, context())).toMatchObject({ accepted: false, rejection: 'task_closed' });
      const timedOut = decide(fired('req-1:manager:escalated', hoursAfter(DUE, 48)), escalated, context());
      expect(types(timedOut)).toEqual([ApprovalRequestDenied.type]);
      expect(timedOut.events[0]?.data).toMatchObject({ basis: 'timeout' });
    });

    it('denies at once when the policy says deny on deadline', () => {
      const result = decide(fired('req-1:manager', DUE), opened(), context({ onDeadline: 'deny' }));
      expect(types(result)).toEqual([ApprovalRequestDenied.type]);
      expect(result.events[0]?.data).toMatchObject({ basis: 'timeout' });
    });

    it('a timer for a task already answered changes nothing', () => {
      const state = opened();
      const answered = then(state, decide(approve('req-1:manager', 'bob'), state, context()));
      expect(decide(fired('req-1:manager', DUE), answered, context())).toEqual({ accepted: true, events: [] });
    });
  });

  describe('idempotence', () => {
    it('the same event twice changes nothing the second time', () => {
      const request = submitted(REQ);
      const once = given(request, decided(REQ));
      expect(evolve(once, request)).toBe(once);
    });

    it('the same command on the same state yields the same events with the same deterministic ids', () => {
      const state = given(submitted(REQ), decided(REQ));
      const first = decide(route, state, context());
      const again = decide(route, state, context());
      expect(again.events).toEqual(first.events);
      // and once its events are folded in, routing again yields nothing
      expect(decide(route, then(state, first), context()).events).toEqual([]);
    });

    it('two approvals computed on the same state carry the same outcome id: a race cannot double-approve', () => {
      const state = given(submitted(REQ), decided(REQ, { route: { stages: [stage('security', [{ resolver: 'security' }])] } }));
      const opened = then(state, decide(route, state, context()));
      const one = decide(approve('req-1:security', 'sec-1'), opened, context());
      const two = decide(approve('req-1:security', 'sec-2'), opened, context());
      const approvedId = (result: DecideResult): string | undefined => result.events.find((e) => e.type === ApprovalRequestApproved.type)?.id;
      expect(approvedId(one)).toBeDefined();
      expect(approvedId(one)).toBe(approvedId(two));
      // applied in either order, the second outcome is a duplicate and the first approval stands
      const settled = then(then(opened, one), two);
      expect(statusOf(settled)).toBe('approved');
    });
  });
});
