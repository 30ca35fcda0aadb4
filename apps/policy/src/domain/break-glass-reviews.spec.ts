import { resolve } from 'node:path';
import { ApprovalReviewCompleted, registry } from '@grantline/contracts';
import type { Envelope } from '@grantline/contracts';
import { loadBundleFromDirectory } from '@grantline/policy-engine';
import { deciderSpec } from '@grantline/testing';
import { specEventId } from '../testing/event-id';
import { INCIDENT, approvalMeta, catalogEvent, onCallAlice, requestEvent, usedBreakGlass, identityEvents } from '../testing/policy-scenario.fixtures';
import { makePolicyDecider } from './policy.decider';
import type { PolicyCommand } from './policy.decider';
import { openBreakGlassReviewsOf } from './break-glass-reviews';
import { evolvePolicyState, initialPolicyState } from './policy.state';

const shipped = loadBundleFromDirectory(resolve(__dirname, '../../../../policies'));
const given = deciderSpec(makePolicyDecider({ bundle: shipped, registry, eventId: specEventId }));

const known = (): Envelope[] => [...identityEvents(), onCallAlice(), catalogEvent()];

const reviewed = (requestId: string): Envelope =>
  registry.encode(
    ApprovalReviewCompleted,
    {
      reviewId: `${requestId}:post-incident-review`,
      kind: 'break_glass_post_incident',
      requestId,
      beneficiaryId: 'alice',
      reviewerId: 'bob',
      asSecurity: false,
      outcome: 'justified',
      findings: 'reads only, during the incident',
      completedAt: '2025-06-02T09:00:00.000Z',
    },
    approvalMeta(`reviewed-${requestId}`, requestId),
  );

const breakGlassAgain = (): PolicyCommand => ({
  request: requestEvent('bg-2', { duration: 'PT2H', ticket: INCIDENT, emergency: { breakGlass: true, incidentRef: INCIDENT } }),
  waitedOut: false,
});

describe('policy: no second break-glass until the last one is reviewed', () => {
  it('given no earlier break-glass use, when alice (on call) breaks glass, then it is auto-approved and the input names no open review', () => {
    given(known())
      .when(breakGlassAgain())
      .thenMatches([{ data: { effect: 'auto_approve', matchedRules: expect.arrayContaining(['break-glass-on-call']) } }]);
  });

  it('given an earlier use whose review is open, when alice breaks glass again, then policy denies it, naming the open review, and the fact is in the recorded input', () => {
    given([...known(), ...usedBreakGlass('bg-1')])
      .when(breakGlassAgain())
      .thenAssert((events) => {
        expect(events[0]?.data).toMatchObject({
          effect: 'deny',
          matchedRules: expect.arrayContaining(['break-glass-unreviewed-use']),
          inputSnapshot: { subject: { openBreakGlassReviews: ['bg-1:post-incident-review'] } },
        });
        expect((events[0]?.data as { reasons: string[] }).reasons.join(' ')).toContain('open review: bg-1:post-incident-review');
      });
  });

  it('given the earlier use reviewed, when alice breaks glass again, then it is allowed again', () => {
    given([...known(), ...usedBreakGlass('bg-1'), reviewed('bg-1')])
      .when(breakGlassAgain())
      .thenMatches([{ data: { effect: 'auto_approve' } }]);
  });

  it('given an open review, when alice asks for access the normal way, then the review does not stand in the way', () => {
    given([...known(), ...usedBreakGlass('bg-1')])
      .when({ request: requestEvent('normal-1'), waitedOut: false })
      .thenMatches([{ data: { effect: 'require_approval' } }]);
  });

  it('given the facts in any order and delivered twice, then the open reviews are the same', () => {
    const facts = [reviewed('bg-1'), ...usedBreakGlass('bg-3'), ...usedBreakGlass('bg-1')];
    const state = [...facts, ...facts].reduce(evolvePolicyState, initialPolicyState());
    expect(openBreakGlassReviewsOf(state.breakGlassReviews, 'alice')).toEqual(['bg-3:post-incident-review']);
    expect(openBreakGlassReviewsOf(state.breakGlassReviews, 'bob')).toEqual([]);
  });
});
