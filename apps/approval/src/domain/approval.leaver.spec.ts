import { ApprovalRequestApproved, ApprovalRequestDenied, IdentityOffboarded, registry } from '@grantline/contracts';
import type { Envelope } from '@grantline/contracts';
import { deciderSpec } from '@grantline/testing';
import { ApprovalRefused } from './approval.commands';
import type { ApprovalCommand } from './approval.commands';
import { catalogEvent, deadlineFired, decided, directoryOf, organisation, specDecider, stage, submitted } from '../testing/approval-scenario';

// Leaver cascade, approval's part: whatever order the offboarding and the request's events arrive in, nothing is
// approved, routed or escalated for a beneficiary who has left. The intake's withdrawal then closes the tasks.

const REQ = 'req-leaver';
const AT = '2026-01-05T11:00:00.000Z';
const aliceLeft = registry.encode(
  IdentityOffboarded,
  { identityId: 'alice', kind: 'human', effectiveAt: '2026-01-05T10:00:00.000Z', reason: 'leaver', ownedIdentityIds: [] },
  {
    id: 'offboarded-alice',
    source: 'grantline/spec',
    time: '2026-01-05T10:00:00.000Z',
    subject: 'alice',
    correlationid: 'alice',
    actor: { kind: 'user', id: 'hr' },
  },
);
const afterLeaving = deciderSpec(specDecider(directoryOf([...organisation(), catalogEvent(), aliceLeft])));
const managerStage = decided(REQ, { route: { stages: [stage('manager', [{ resolver: 'manager' }])] } });
const pendingForAlice = (): Envelope[] => [submitted(REQ), managerStage];
/** The task as routing opened it before Alice left (the same decider with the directory of then). */
const openedBeforeLeaving = (): Envelope[] => {
  const before = specDecider(directoryOf([...organisation(), catalogEvent()]));
  const facts = pendingForAlice();
  const state = facts.reduce(before.evolve, before.initialState());
  return [...facts, ...before.decide({ kind: 'route', requestId: REQ }, state)];
};
const bobApproves: ApprovalCommand = { kind: 'decide_task', requestId: REQ, taskId: `${REQ}:manager`, approverId: 'bob', decision: 'approve', at: AT };

describe('approval refuses to act for a beneficiary who has left', () => {
  it("refuses the manager's approval of a leaver's open task, recording nothing", () => {
    // Given Alice's request awaits her manager Bob, and then Alice is offboarded, when Bob approves
    afterLeaving(openedBeforeLeaving())
      .when(bobApproves)
      // Then the answer is refused (409 request_ended at the edge) and nothing is approved
      .thenThrows((error) => error instanceof ApprovalRefused && error.rejection === 'request_ended' && /alice has left \(offboarded\)/.test(error.message));
  });

  it('refuses to authorize the answer too, so the edge refuses before reading the body', () => {
    afterLeaving(openedBeforeLeaving())
      .when({ kind: 'authorize_task', requestId: REQ, taskId: `${REQ}:manager`, approverId: 'bob', at: AT })
      .thenThrows(/can no longer be approved/);
  });

  it('denies instead of routing when the decision reaches approval after the offboarding', () => {
    // Given the policy decided before it saw the offboarding, when approval routes the request
    afterLeaving(pendingForAlice())
      .when({ kind: 'route', requestId: REQ })
      // Then no task opens for anyone: the request is denied, saying why
      .thenMatches([
        {
          type: ApprovalRequestDenied.type,
          data: { requestId: REQ, basis: 'policy', reasons: ['beneficiary alice has left (offboarded): nothing is granted'] },
        },
      ]);
  });

  it("does not escalate a leaver's task at its deadline: the request ends, nothing approved", () => {
    afterLeaving(openedBeforeLeaving())
      .when({
        kind: 'deadline',
        requestId: REQ,
        taskId: `${REQ}:manager`,
        timerEventId: deadlineFired(REQ, `${REQ}:manager`, '2026-01-08T09:00:01.000Z').id,
        firedAt: '2026-01-08T09:00:01.000Z',
      })
      .thenAssert((events) => {
        expect(events.map((event) => event.type)).toEqual([ApprovalRequestDenied.type]);
        expect(events.some((event) => event.type === ApprovalRequestApproved.type)).toBe(false);
        expect(JSON.stringify(events[0]?.data)).toMatch(/alice has left \(offboarded\): not escalated/);
      });
  });
});
