import { resolve } from 'node:path';
import { registry } from '@grantline/contracts';
import type { Envelope } from '@grantline/contracts';
import { loadBundleFromDirectory } from '@grantline/policy-engine';
import { catalogEvent, identityEvents, requestEvent } from '../testing/policy-scenario.fixtures';
import { decideRequest } from './decide-request';
import { PolicyState } from './policy-state';
import { mapRequestToInput } from './request-input.mapper';

const shipped = loadBundleFromDirectory(resolve(__dirname, '../../../../policies'));
const given = (...events: Envelope[]): PolicyState => {
  const state = new PolicyState();
  for (const event of [...identityEvents(), catalogEvent(), ...events]) state.apply(event);
  return state;
};
const relationOf = (requesterId: string, subject: { id: string; kind: 'human' | 'ci_pipeline' }): string => {
  const mapping = mapRequestToInput(requestEvent(`rel-${requesterId}-${subject.id}`, { requesterId, subject }), given());
  if (mapping.kind !== 'input') throw new Error(mapping.reasons.join('; '));
  return mapping.input.requester.relation;
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
    const decision = decideRequest(requestEvent('rel-deny', { requesterId: 'mallory', subject: { id: 'alice', kind: 'human' } }), given(), shipped, registry);
    expect(decision.data).toMatchObject({ effect: 'deny', matchedRules: expect.arrayContaining(['requester-must-be-related']) });
    expect((decision.data as { reasons: string[] }).reasons.join(' ')).toContain('mallory may not request access for alice');
  });

  it('when her manager asks for alice, then the request is decided as if she had asked (no relation denial)', () => {
    const decision = decideRequest(requestEvent('rel-manager', { requesterId: 'bob', subject: { id: 'alice', kind: 'human' } }), given(), shipped, registry);
    expect((decision.data as { matchedRules: string[] }).matchedRules).not.toContain('requester-must-be-related');
  });
});
