import type { Envelope } from '@grantline/contracts';
import { foldEvents } from '@grantline/decider';
import { catalogEvent, decided, directoryOf, organisation, specDecider, submitted, withdrawn } from '../testing/approval-scenario';
import { InboxIndex, taskScopeOf } from './inbox.view';
import type { RequestApprovalState } from './approval.state';

const directory = directoryOf([...organisation(), catalogEvent()]);
const decider = specDecider(directory);

/** The request aggregates and the inbox index, folded from the same events as the service folds them. */
const fold = (events: readonly Envelope[]): { index: InboxIndex; stateOf: (requestId: string) => RequestApprovalState } => {
  const index = new InboxIndex();
  const byRequest = new Map<string, Envelope[]>();
  for (const event of [...events, ...events]) {
    const requestId = (event.data as { requestId: string }).requestId;
    byRequest.set(requestId, [...(byRequest.get(requestId) ?? []), event]);
    index.fold(requestId, event);
  }
  return { index, stateOf: (requestId) => foldEvents(decider, byRequest.get(requestId) ?? []) };
};
/** A request routed by the decider: the events it published follow the facts. */
const routed = (requestId: string, facts: Envelope[]): Envelope[] => [...facts, ...decider.decide({ kind: 'route', requestId }, foldEvents(decider, facts))];

describe('the approver inbox: the exact scope of a task', () => {
  it('given a request and its decision, then the scope names entitlement, system, environment, privileges, duration, justification, ticket, risk and SoD', () => {
    const events = routed('req-1', [
      submitted('req-1', { ticket: { system: 'jira', id: 'OPS-7' }, duration: 'PT8H' }),
      decided('req-1', {
        risk: { score: 30, factors: [{ id: 'production', weight: 10, description: 'production environment' }] },
        sodConflicts: [{ policyId: 'orders-maker-checker', entitlements: ['orders-read', 'orders-write'], description: 'read and write orders' }],
      }),
    ]);
    const { index, stateOf } = fold(events);
    expect(taskScopeOf('req-1', stateOf('req-1'), index, directory, stateOf)).toMatchObject({
      subject: { id: 'alice', kind: 'human' },
      requesterId: 'alice',
      entitlements: [
        { entitlementId: 'orders-read', systemId: 'orders-db', environment: 'prod', privileges: ['read'], sensitivity: 'high', maxDuration: 'P30D' },
      ],
      duration: 'PT8H',
      maxDuration: 'P1D',
      justification: 'investigate the export bug',
      ticket: { system: 'jira', id: 'OPS-7' },
      breakGlass: false,
      risk: { score: 30, factors: [{ id: 'production' }] },
      sodConflicts: [{ policyId: 'orders-maker-checker' }],
      decision: { decisionId: 'dec-req-1', matchedRules: ['spec-rule'] },
      lineage: [],
    });
  });

  it('given earlier requests of the same subject, then the lineage lists those sharing an entitlement (each delivered twice, listed once), with how and when they ended', () => {
    const approvedBefore = routed('req-0', [submitted('req-0'), decided('req-0', { effect: 'auto_approve' })]);
    const withdrawnBefore = [submitted('req-w'), withdrawn('req-w')];
    const otherEntitlement = routed('req-x', [
      submitted('req-x', { items: { entitlementIds: ['orders-write'] } }),
      decided('req-x', { effect: 'auto_approve' }),
    ]);
    const someoneElse = [submitted('req-c', { requesterId: 'carol', subject: { id: 'carol', kind: 'human' } })];
    const current = routed('req-1', [submitted('req-1'), decided('req-1')]);
    const { index, stateOf } = fold([...approvedBefore, ...withdrawnBefore, ...otherEntitlement, ...someoneElse, ...current]);
    const lineage = taskScopeOf('req-1', stateOf('req-1'), index, directory, stateOf)?.lineage ?? [];
    expect(lineage.map((entry) => [entry.requestId, entry.status])).toEqual(
      expect.arrayContaining([
        ['req-0', 'approved'],
        ['req-w', 'withdrawn'],
      ]),
    );
    expect(lineage).toHaveLength(2);
    expect(lineage.find((entry) => entry.requestId === 'req-0')).toMatchObject({
      entitlementIds: ['orders-read'],
      endedAt: expect.any(String),
      grants: [{ grantId: 'req-0:orders-read', entitlementId: 'orders-read' }],
    });
  });
});
