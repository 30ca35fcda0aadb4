import { decideAndEvolve, foldEvents } from '@grantline/decider';
import { initialState } from './approval.state';
import type { RequestApprovalState } from './approval.state';
import { isRelatedTo, relationsTo } from './approval.visibility';
import { catalogEvent, decided, directoryOf, organisation, specDecider, stage, submitted } from '../testing/approval-scenario';

const REQ = 'req-v';
const directory = directoryOf([...organisation(), catalogEvent()]);
const decider = specDecider(directory);

/** A request routed to the given stages, with the opened tasks folded in. */
const routed = (stages = [stage('manager', [{ resolver: 'manager' }])], overrides = {}): RequestApprovalState =>
  decideAndEvolve(decider, { kind: 'route', requestId: REQ }, foldEvents(decider, [submitted(REQ, overrides), decided(REQ, { route: { stages } })])).state;

describe('who a request concerns (relationsTo)', () => {
  it("the requester, the beneficiary and the beneficiary's manager, from the request and the directory", () => {
    const state = routed([stage('owner', [{ resolver: 'resource_owner' }])], { requesterId: 'bob', subject: { id: 'carol', kind: 'human' } });
    expect([...relationsTo(state, directory, 'bob')].sort()).toEqual(['manager', 'requester']);
    expect([...relationsTo(state, directory, 'carol')]).toEqual(['beneficiary']);
    expect([...relationsTo(state, directory, 'dave')]).toEqual(['approver']);
    expect(isRelatedTo(state, directory, 'erin')).toBe(false);
  });

  it('the owner of record of a non-human beneficiary', () => {
    const state = routed([stage('security', [{ resolver: 'security' }])], { subject: { id: 'svc-orders', kind: 'service_account' } });
    expect([...relationsTo(state, directory, 'carol')]).toEqual(['nhi_owner']);
    // carol's manager is nobody's manager here: only a human beneficiary has one
    expect(relationsTo(state, directory, 'bob').has('manager')).toBe(false);
  });

  it('past approvers stay related after their task was escalated away from them', () => {
    const state = routed();
    const escalated = decideAndEvolve(
      decider,
      { kind: 'deadline', requestId: REQ, taskId: `${REQ}:manager`, timerEventId: 'timer-1', firedAt: '2026-01-08T00:00:00.000Z' },
      state,
    ).state;
    expect(escalated.tasks.map((task) => task.taskId)).toEqual([`${REQ}:manager`, `${REQ}:manager:escalated`]);
    expect(relationsTo(escalated, directory, 'bob').has('approver')).toBe(true);
    expect(relationsTo(escalated, directory, 'sec-1').has('approver')).toBe(true);
  });

  it('nobody is related to a request whose submission is not known, except approvers of its tasks', () => {
    expect(isRelatedTo(initialState(), directory, 'alice')).toBe(false);
  });
});
