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
import { foldEvents } from '@grantline/decider';
import { deciderSpec } from '@grantline/testing';
import { ApprovalRefused, refusalIn } from './approval.commands';
import type { ApprovalCommand, Rejection } from './approval.commands';
import type { ApprovalDecider } from './approval.decide';
import { statusOf, taskOf } from './approval.state';
import type { ApprovalPolicy } from './approval.policy';
import { catalogEvent, deadlineFired, decided, directoryOf, organisation, specDecider, stage, submitted, withdrawn } from '../testing/approval-scenario';

const REQ = 'req-1';
const DECIDED_AT = '2026-01-05T09:00:01.000Z';
const AT = '2026-01-05T11:00:00.000Z';
const hoursAfter = (iso: string, hours: number): string => new Date(Date.parse(iso) + hours * 3_600_000).toISOString();

const directory = directoryOf([...organisation(), catalogEvent()]);
const decider = (policy: Partial<ApprovalPolicy> = {}): ApprovalDecider => specDecider(directory, policy);
const given = deciderSpec(decider());
const route: ApprovalCommand = { kind: 'route', requestId: REQ };
const approve = (taskId: string, approverId: string, decision: 'approve' | 'deny' = 'approve', at = AT): ApprovalCommand => ({
  kind: 'decide_task',
  requestId: REQ,
  taskId,
  approverId,
  decision,
  at,
});
const types = (events: readonly Envelope[]): string[] => events.map((event) => event.type);
const dataOf = <T>(events: readonly Envelope[], type: string): T => events.find((event) => event.type === type)?.data as T;
/** The facts, then what each command decided in turn, folded in as the service does once they are published. */
const happened = (facts: readonly Envelope[], ...commands: ApprovalCommand[]): Envelope[] =>
  commands.reduce<Envelope[]>((events, command) => [...events, ...decider().decide(command, foldEvents(decider(), events))], [...facts]);
/** decide refused the answer (and so recorded nothing). */
const refused =
  (rejection: Rejection, message?: string) =>
  (error: unknown): boolean => {
    expect(error).toBeInstanceOf(ApprovalRefused);
    expect(error).toMatchObject({ rejection, ...(message !== undefined ? { message } : {}) });
    return true;
  };

describe('approval decider', () => {
  describe('routing a policy decision', () => {
    it('auto_approve: approved at once, each grant ending at now + min(requested, policy max, entitlement max)', () => {
      // Given a request for 8h of orders-read and 7 days of orders-write, policy max 1 day
      given([
        submitted(REQ, { items: { entitlementIds: ['orders-read'] }, duration: 'PT8H' }),
        decided(REQ, { effect: 'auto_approve', constraints: { maxDuration: 'P1D', breakGlassAllowed: false, recertificationEvery: 'P90D' } }),
      ])
        .when(route)
        .thenMatches([
          {
            type: ApprovalRequestApproved.type,
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
          },
        ]);

      given([submitted(REQ, { items: { entitlementIds: ['orders-read', 'orders-write'] }, duration: 'P7D' }), decided(REQ, { effect: 'auto_approve' })])
        .when(route)
        .thenAssert((events) => {
          const { grants } = dataOf<{ grants: { expiresAt: string }[] }>(events, ApprovalRequestApproved.type);
          // orders-read: the policy's 1 day wins; orders-write: its own 12h maximum wins
          expect(grants.map((grant) => grant.expiresAt)).toEqual([hoursAfter(DECIDED_AT, 24), hoursAfter(DECIDED_AT, 12)]);
        });
    });

    it('deny: request-denied with the policy reasons', () => {
      given([submitted(REQ), decided(REQ, { effect: 'deny', reasons: ['least privilege: write is too broad'] })])
        .when(route)
        .thenAssert((events) => {
          expect(types(events)).toEqual([ApprovalRequestDenied.type]);
          expect(events[0]?.data).toEqual({ requestId: REQ, basis: 'policy', decisionId: 'dec-req-1', reasons: ['least privilege: write is too broad'] });
        });
    });

    it('require_approval: opens the first stage only, approvers resolved from identities and catalogue, due per the stage timeout', () => {
      given([
        submitted(REQ),
        decided(REQ, { route: { stages: [stage('owner', [{ resolver: 'resource_owner' }], 1, 'PT4H'), stage('security', [{ resolver: 'security' }])] } }),
      ])
        .when(route)
        .thenAssert((events) => {
          expect(types(events)).toEqual([ApprovalTaskOpened.type]);
          expect(events[0]?.data).toEqual({
            taskId: 'req-1:owner',
            requestId: REQ,
            stageId: 'owner',
            eligibleApproverIds: ['dave'],
            quorum: 1,
            dueAt: hoursAfter(DECIDED_AT, 4),
          });
        });
    });

    it.each([
      ['manager', [{ resolver: 'manager' as const }], ['bob']],
      ['security', [{ resolver: 'security' as const }], ['sec-1', 'sec-2']],
      ['named group members', [{ resolver: 'group' as const, group: 'sre' }], ['sec-2']],
      ['ids resolved by the policy', [{ resolver: 'resource_owner' as const, resolvedIdentityIds: ['erin'] }], ['erin']],
    ])('resolves %s', (_name, approvers, expected) => {
      given([submitted(REQ), decided(REQ, { route: { stages: [stage('s1', approvers)] } })])
        .when(route)
        .thenMatches([{ type: ApprovalTaskOpened.type, data: { eligibleApproverIds: expected, dueAt: hoursAfter(DECIDED_AT, 48) } }]);
    });

    it('resolves the NHI owner of record for a service account, and never the requester', () => {
      // Given bob (alice's manager) asks for alice: bob cannot approve as manager, security stands in
      given([submitted(REQ, { requesterId: 'bob' }), decided(REQ)])
        .when(route)
        .thenMatches([{ type: ApprovalTaskOpened.type, data: { eligibleApproverIds: ['sec-1', 'sec-2'] } }]);
      // Given alice asks for the svc-orders service account owned by carol
      given([
        submitted(REQ, { subject: { id: 'svc-orders', kind: 'service_account' } }),
        decided(REQ, { route: { stages: [stage('owner', [{ resolver: 'nhi_owner' }]), stage('security', [{ resolver: 'security' }])] } }),
      ])
        .when(route)
        .thenMatches([{ type: ApprovalTaskOpened.type, data: { eligibleApproverIds: ['carol'] } }]);
    });

    it('denies (sod_conflict) when no stage approver can be found, not even in the security group', () => {
      given([submitted(REQ), decided(REQ, { route: { stages: [stage('four', [{ resolver: 'manager' }], 4)] } })])
        .when(route)
        .thenMatches([{ type: ApprovalRequestDenied.type, data: { basis: 'sod_conflict' } }]);
    });

    it('waits for both the request and the decision, whichever comes first', () => {
      const decisionOnly = [decided(REQ, { effect: 'auto_approve' })];
      given(decisionOnly)
        .when(route)
        .thenAssert((events, after) => {
          expect(statusOf(after)).toBe('awaiting_request');
          expect(events).toEqual([]);
        });
      given([...decisionOnly, submitted(REQ)])
        .when(route)
        .thenMatches([{ type: ApprovalRequestApproved.type }]);
    });

    it('break-glass: granted at once with the hard maximum, a post-incident review for a named reviewer, no notification (the notifier derives it)', () => {
      given([
        submitted(REQ, { emergency: { breakGlass: true, incidentRef: { system: 'jira', id: 'INC-7' } }, duration: 'PT8H' }),
        decided(REQ, { effect: 'auto_approve', constraints: { maxDuration: 'P1D', breakGlassAllowed: true } }),
      ])
        .when(route)
        .thenAssert((events, after) => {
          expect(types(events)).toEqual([ApprovalBreakGlassGranted.type, ApprovalReviewOpened.type]);
          const reviewDueAt = hoursAfter(DECIDED_AT, 48);
          expect(events[0]?.data).toEqual({
            requestId: REQ,
            beneficiaryId: 'alice',
            incidentRef: { system: 'jira', id: 'INC-7' },
            grants: [{ grantId: 'req-1:orders-read', entitlementId: 'orders-read', expiresAt: hoursAfter(DECIDED_AT, 4) }],
            reviewDueAt,
            decisionId: 'dec-req-1',
          });
          expect(events[1]?.data).toEqual({
            reviewId: 'req-1:post-incident-review',
            kind: 'break_glass_post_incident',
            requestId: REQ,
            grantIds: ['req-1:orders-read'],
            reviewerIds: ['bob'],
            dueAt: reviewDueAt,
          });
          expect(statusOf(after)).toBe('break_glass');
        });
    });

    it('an emergency the decision does not allow as break-glass goes the normal way', () => {
      given([
        submitted(REQ, { emergency: { breakGlass: true, incidentRef: { system: 'jira', id: 'INC-7' } } }),
        decided(REQ, { constraints: { maxDuration: 'P1D', breakGlassAllowed: false } }),
      ])
        .when(route)
        .thenMatches([{ type: ApprovalTaskOpened.type }]);
    });
  });

  describe('approver decisions', () => {
    const opened = (stages = [stage('manager', [{ resolver: 'manager' }])], requestOverrides = {}): Envelope[] =>
      happened([submitted(REQ, requestOverrides), decided(REQ, { route: { stages } })], route);

    it('the eligible approver approves the only stage: decision recorded, request approved with the approvals as basis', () => {
      given(opened())
        .when(approve('req-1:manager', 'bob'))
        .thenAssert((events) => {
          expect(types(events)).toEqual([ApprovalDecisionRecorded.type, ApprovalRequestApproved.type]);
          expect(events[0]).toMatchObject({ actor: { kind: 'user', id: 'bob' }, data: { approverId: 'bob', decision: 'approve', stageId: 'manager' } });
          expect(events[1]?.causationid).toBe(events[0]?.id);
          expect(events[1]?.data).toMatchObject({
            grants: [{ grantId: 'req-1:orders-read', expiresAt: hoursAfter(AT, 8) }],
            basis: {
              kind: 'approvals',
              decisionId: 'dec-req-1',
              approvals: [{ taskId: 'req-1:manager', stageId: 'manager', approverId: 'bob', decidedAt: AT }],
            },
          });
        });
    });

    it.each([
      ['requester', 'alice', {}],
      ['beneficiary', 'carol', { requesterId: 'bob', subject: { id: 'carol', kind: 'human' } }],
    ])('the %s is refused as self-approval, and the attempt is recorded', (relation, approverId, overrides) => {
      given(opened(undefined, overrides))
        .when(approve(`req-1:manager`, approverId))
        .thenAssert((events, after) => {
          expect(refusalIn(events)).toMatchObject({ rejection: 'self_approval' });
          expect(types(events)).toEqual([ApprovalSelfApprovalBlocked.type]);
          expect(events[0]?.data).toEqual({ taskId: 'req-1:manager', requestId: REQ, attemptedById: approverId, relation, attemptedAt: AT });
          // the request stays pending
          expect(statusOf(after)).toBe('pending');
        });
    });

    it('the owner of the beneficiary NHI is refused outside the owner-of-record stage, accepted in it', () => {
      const state = opened([stage('owner', [{ resolver: 'nhi_owner' }]), stage('security', [{ resolver: 'security' }])], {
        subject: { id: 'svc-orders', kind: 'service_account' },
      });
      given(state)
        .when(approve('req-1:owner', 'carol'))
        .thenMatches([{ type: ApprovalDecisionRecorded.type }, { type: ApprovalTaskOpened.type }]);
      given(happened(state, approve('req-1:owner', 'carol')))
        .when(approve('req-1:security', 'carol'))
        .thenAssert((events) => {
          expect(refusalIn(events)).toMatchObject({ rejection: 'self_approval' });
          expect(events[0]?.data).toMatchObject({ relation: 'nhi_owner' });
        });
    });

    it('someone not eligible for the task is refused with nothing recorded', () => {
      given(opened()).when(approve('req-1:manager', 'erin')).thenThrows(refused('not_eligible', 'erin is not an eligible approver of task req-1:manager'));
    });

    it('an unknown task is refused as unknown', () => {
      given(opened()).when(approve('req-1:nope', 'bob')).thenThrows(refused('unknown_task'));
    });

    it('a quorum counts distinct approvers: the same approver twice is one vote', () => {
      const state = opened([stage('security', [{ resolver: 'security' }], 2)]);
      given(state)
        .when(approve('req-1:security', 'sec-1'))
        .thenMatches([{ type: ApprovalDecisionRecorded.type }]);
      const once = happened(state, approve('req-1:security', 'sec-1'));
      given(once)
        .when(approve('req-1:security', 'sec-1'))
        .thenAssert((events, after) => {
          expect(events).toEqual([]);
          expect(statusOf(after)).toBe('pending');
        });
      given(once)
        .when(approve('req-1:security', 'sec-1', 'deny'))
        .thenThrows(refused('already_decided'));
      given(once)
        .when(approve('req-1:security', 'sec-2'))
        .thenAssert((events) => {
          expect(types(events)).toEqual([ApprovalDecisionRecorded.type, ApprovalRequestApproved.type]);
          expect(dataOf<{ basis: { approvals: unknown[] } }>(events, ApprovalRequestApproved.type).basis.approvals).toHaveLength(2);
        });
    });

    it('a deny ends the request', () => {
      given(opened())
        .when(approve('req-1:manager', 'bob', 'deny'))
        .thenMatches([{ type: ApprovalDecisionRecorded.type }, { type: ApprovalRequestDenied.type, data: { basis: 'approver', deniedBy: 'bob' } }]);
    });

    it('stages run in order, and one person cannot approve two stages', () => {
      const state = opened([stage('sre', [{ resolver: 'group', group: 'sre' }]), stage('security', [{ resolver: 'security' }])]);
      given(state)
        .when(approve('req-1:sre', 'sec-2'))
        .thenMatches([
          { type: ApprovalDecisionRecorded.type },
          { type: ApprovalTaskOpened.type, data: { taskId: 'req-1:security', eligibleApproverIds: ['sec-1', 'sec-2'], dueAt: hoursAfter(AT, 48) } },
        ]);
      const first = happened(state, approve('req-1:sre', 'sec-2'));
      given(first).when(approve('req-1:security', 'sec-2')).thenThrows(refused('not_eligible'));
      given(first)
        .when(approve('req-1:security', 'sec-1'))
        .thenMatches([{ type: ApprovalDecisionRecorded.type }, { type: ApprovalRequestApproved.type }]);
    });

    it('decisions after the request ended, or after a withdrawal, are refused', () => {
      const state = opened();
      given(happened(state, approve('req-1:manager', 'bob', 'deny')))
        .when(approve('req-1:manager', 'bob'))
        .thenThrows(refused('request_ended'));
      const gone = [...state, withdrawn(REQ)];
      const goneState = foldEvents(decider(), gone);
      expect(statusOf(goneState)).toBe('withdrawn');
      expect(taskOf(goneState, 'req-1:manager')?.status).toBe('closed');
      given(gone).when(approve('req-1:manager', 'bob')).thenThrows(refused('request_withdrawn'));
    });
  });

  describe('authorizing an answer before it is read (authorize_task)', () => {
    const authorize = (taskId: string, approverId: string): ApprovalCommand => ({ kind: 'authorize_task', requestId: REQ, taskId, approverId, at: AT });
    const opened = (stages = [stage('manager', [{ resolver: 'manager' }])], requestOverrides = {}): Envelope[] =>
      happened([submitted(REQ, requestOverrides), decided(REQ, { route: { stages } })], route);

    it('lets the eligible approver through with nothing recorded', () => {
      given(opened()).when(authorize('req-1:manager', 'bob')).thenNothing();
    });

    it('refuses someone not eligible as not_eligible, recording nothing in the domain (the edge records the refusal)', () => {
      given(opened()).when(authorize('req-1:manager', 'erin')).thenThrows(refused('not_eligible', 'erin is not an eligible approver of task req-1:manager'));
    });

    it('records a self-approval attempt exactly as decide_task does', () => {
      const state = opened();
      const decidedEvents = decider().decide(approve('req-1:manager', 'alice'), foldEvents(decider(), state));
      given(state)
        .when(authorize('req-1:manager', 'alice'))
        .thenAssert((events) => {
          expect(refusalIn(events)).toMatchObject({ rejection: 'self_approval' });
          expect(events).toEqual(decidedEvents);
          expect(refusalIn(events)).toEqual(refusalIn(decidedEvents));
        });
    });

    it("lets an approver who already answered through (a repeat is decide_task's to judge), and refuses after the end", () => {
      const once = happened(opened([stage('security', [{ resolver: 'security' }], 2)]), approve('req-1:security', 'sec-1'));
      given(once).when(authorize('req-1:security', 'sec-1')).thenNothing();
      const ended = happened(once, approve('req-1:security', 'sec-2', 'deny'));
      given(ended).when(authorize('req-1:security', 'sec-1')).thenThrows(refused('request_ended'));
      given(ended).when(authorize('req-1:nope', 'sec-1')).thenThrows(refused('unknown_task'));
    });
  });

  describe('deadlines', () => {
    const opened = (): Envelope[] => happened([submitted(REQ), decided(REQ)], route);
    const fired = (taskId: string, at: string): ApprovalCommand => {
      const timer = deadlineFired(REQ, taskId, at);
      return { kind: 'deadline', requestId: REQ, taskId, timerEventId: timer.id, firedAt: timer.data.firedAt };
    };
    const DUE = hoursAfter(DECIDED_AT, 48);

    it('by default escalates an unanswered task once to the security group, then denies on the next deadline', () => {
      const state = opened();
      given(state)
        .when(fired('req-1:manager', DUE))
        .thenAssert((events) => {
          expect(types(events)).toEqual([ApprovalEscalated.type, ApprovalTaskOpened.type]);
          expect(events[0]?.data).toEqual({
            taskId: 'req-1:manager',
            requestId: REQ,
            stageId: 'manager',
            reason: 'deadline_passed',
            escalatedToIds: ['sec-1', 'sec-2'],
            newTaskId: 'req-1:manager:escalated',
          });
          expect(events[1]?.data).toMatchObject({ escalatedFromTaskId: 'req-1:manager', quorum: 1, dueAt: hoursAfter(DUE, 48) });
        });
      const escalated = happened(state, fired('req-1:manager', DUE));
      // the original approver can no longer answer; the security group can
      given(escalated).when(approve('req-1:manager', 'bob')).thenThrows(refused('task_closed'));
      given(escalated)
        .when(fired('req-1:manager:escalated', hoursAfter(DUE, 48)))
        .thenMatches([{ type: ApprovalRequestDenied.type, data: { basis: 'timeout' } }]);
    });

    it('denies at once when the policy says deny on deadline', () => {
      deciderSpec(decider({ onDeadline: 'deny' }))(opened())
        .when(fired('req-1:manager', DUE))
        .thenMatches([{ type: ApprovalRequestDenied.type, data: { basis: 'timeout' } }]);
    });

    it('a timer for a task already answered changes nothing', () => {
      given(happened(opened(), approve('req-1:manager', 'bob')))
        .when(fired('req-1:manager', DUE))
        .thenNothing();
    });
  });

  describe('idempotence', () => {
    it('the same event twice changes nothing the second time', () => {
      const request = submitted(REQ);
      const once = foldEvents(decider(), [request, decided(REQ)]);
      expect(decider().evolve(once, request)).toBe(once);
    });

    it('the same command on the same state yields the same events with the same deterministic ids', () => {
      const facts = [submitted(REQ), decided(REQ)];
      const first = decider().decide(route, foldEvents(decider(), facts));
      given(facts).when(route).then(first);
      // and once its events are folded in, routing again yields nothing
      given([...facts, ...first])
        .when(route)
        .thenNothing();
    });

    it('two approvals computed on the same state carry the same outcome id: a race cannot double-approve', () => {
      const opened = happened([submitted(REQ), decided(REQ, { route: { stages: [stage('security', [{ resolver: 'security' }])] } })], route);
      const one = decider().decide(approve('req-1:security', 'sec-1'), foldEvents(decider(), opened));
      const approvedId = (events: readonly Envelope[]): string | undefined => events.find((e) => e.type === ApprovalRequestApproved.type)?.id;
      given(opened)
        .when(approve('req-1:security', 'sec-2'))
        .thenAssert((two) => {
          expect(approvedId(one)).toBeDefined();
          expect(approvedId(one)).toBe(approvedId(two));
          // applied in either order, the second outcome is a duplicate and the first approval stands
          expect(statusOf(foldEvents(decider(), [...opened, ...one, ...two]))).toBe('approved');
        });
    });
  });
});
