import { resolve } from 'node:path';
import { registry } from '@grantline/contracts';
import type { DecisionRecordedData, Envelope } from '@grantline/contracts';
import type { Decider } from '@grantline/decider';
import { foldEvents } from '@grantline/decider';
import { loadBundleFromDirectory } from '@grantline/policy-engine';
import { deciderSpec } from '@grantline/testing';
import { specEventId } from '../testing/event-id';
import { catalogEvent, identityEvents, requestEvent } from '../testing/policy-scenario.fixtures';
import { makePolicyDecider } from './policy.decider';
import type { PolicyCommand } from './policy.decider';
import type { PolicyState } from './policy.state';
import { mapRequestToInput } from './request-input.mapper';

const decider: Decider<PolicyCommand, Envelope, PolicyState> = makePolicyDecider({
  bundle: loadBundleFromDirectory(resolve(__dirname, '../../../../policies')),
  registry,
  eventId: specEventId,
});
const given = deciderSpec(decider);
const directory = (): Envelope[] => [...identityEvents(), catalogEvent()];
const relationOf = (requesterId: string, subject: { id: string; kind: 'human' | 'ci_pipeline' }): string => {
  const mapping = mapRequestToInput(requestEvent(`rel-${requesterId}-${subject.id}`, { requesterId, subject }), foldEvents(decider, directory()));
  if (mapping.kind !== 'input') throw new Error(mapping.reasons.join('; '));
  return mapping.input.requester.relation;
};
const dataOf = (events: readonly Envelope[]): DecisionRecordedData => {
  expect(events).toHaveLength(1);
  return events[0]?.data as DecisionRecordedData;
};

describe('requesting for someone else is decided by policy, from the directory', () => {
  it('given the directory, then the requester is the beneficiary, their manager, the NHI owner, or unrelated', () => {
    expect(relationOf('alice', { id: 'alice', kind: 'human' })).toBe('self');
    expect(relationOf('bob', { id: 'alice', kind: 'human' })).toBe('manager');
    expect(relationOf('alice', { id: 'ci-orders', kind: 'ci_pipeline' })).toBe('nhi_owner');
    expect(relationOf('bob', { id: 'ci-orders', kind: 'ci_pipeline' })).toBe('none');
    expect(relationOf('mallory', { id: 'alice', kind: 'human' })).toBe('none');
  });

  it('when an unrelated person asks for alice, then the shipped bundle denies it, naming both', () => {
    given(directory())
      .when({ request: requestEvent('rel-deny', { requesterId: 'mallory', subject: { id: 'alice', kind: 'human' } }), waitedOut: false })
      .thenAssert((events) => {
        const data = dataOf(events);
        expect(data).toMatchObject({ effect: 'deny', matchedRules: expect.arrayContaining(['requester-must-be-related']) });
        expect(data.reasons.join(' ')).toContain('mallory may not request access for alice');
      });
  });

  it('when her manager asks for alice, then the request is decided as if she had asked (no relation denial)', () => {
    given(directory())
      .when({ request: requestEvent('rel-manager', { requesterId: 'bob', subject: { id: 'alice', kind: 'human' } }), waitedOut: false })
      .thenAssert((events) => expect(dataOf(events).matchedRules).not.toContain('requester-must-be-related'));
  });
});
