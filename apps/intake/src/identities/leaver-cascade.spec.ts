import { IdentityCredentialsRotationFlagged, IdentityOffboarded, IdentityOwnershipTransferOpened, RequestWithdrawn, registry } from '@grantline/contracts';
import type { Envelope, IdentityOffboardedData } from '@grantline/contracts';
import { deterministicEventId } from '@grantline/messaging';
import { deciderSpec } from '@grantline/testing';
import { envelope } from '../testing/lifecycle.builders';
import { LEAVER_WITHDRAWAL_REASON, makeLeaverCascadeDecider, ownershipTransferIdOf } from './leaver-cascade';
import type { LeaverState, OwnershipPolicy } from './leaver-cascade';

const EFFECTIVE = '2026-03-02T09:00:00.000Z';
const policy: OwnershipPolicy = { transferWithin: 'P14D', fallbackRole: 'security', grantsDisposition: 'revoke_now' };
const given = deciderSpec(makeLeaverCascadeDecider({ registry, eventId: deterministicEventId, policy }));

const offboarded = (data: Partial<IdentityOffboardedData> = {}): Envelope<IdentityOffboardedData> =>
  envelope(
    IdentityOffboarded,
    { identityId: 'alice', kind: 'human', effectiveAt: EFFECTIVE, reason: 'leaver', ownedIdentityIds: [], ...data },
    { id: 'offboarding-1', subject: data.identityId ?? 'alice' },
  ) as Envelope<IdentityOffboardedData>;

const state = (overrides: Partial<LeaverState> = {}): LeaverState => ({ managerId: 'maria', managerActive: true, openRequests: [], ...overrides });

describe('the leaver cascade: what the intake decides when an identity is offboarded', () => {
  it('withdraws every request still open for the leaver, saying why, caused by the offboarding', () => {
    const offboarding = offboarded();
    // Given two open requests for Alice and one for Bob, when Alice is offboarded
    given
      .state(
        state({
          openRequests: [
            { requestId: 'req-b', subjectId: 'alice' },
            { requestId: 'req-a', subjectId: 'alice' },
            { requestId: 'req-bob', subjectId: 'bob' },
          ],
        }),
      )
      .when(offboarding)
      // Then Alice's two are withdrawn by the intake (ordered by id), keyed by each request; Bob's is left alone
      .thenMatches(
        ['req-a', 'req-b'].map((requestId) => ({
          type: RequestWithdrawn.type,
          subject: requestId,
          causationid: offboarding.id,
          actor: { kind: 'service', id: 'intake' },
          data: { requestId, withdrawnBy: 'intake', reason: LEAVER_WITHDRAWAL_REASON },
        })),
      );
  });

  it('opens an ownership transfer case for the manager of each NHI the leaver owned, due after the policy window, and flags its credentials', () => {
    const offboarding = offboarded({ ownedIdentityIds: ['ci-deploy'] });
    const transferId = ownershipTransferIdOf(offboarding.id, 'ci-deploy');
    // Given Alice's manager Maria is active, when Alice (owner of ci-deploy) is offboarded
    given
      .state(state())
      .when(offboarding)
      // Then a case for Maria, due 14 days after the offboarding took effect, with the bundle's disposition; and a rotation flag
      .thenMatches([
        {
          type: IdentityOwnershipTransferOpened.type,
          subject: 'ci-deploy',
          causationid: offboarding.id,
          data: {
            transferId,
            identityId: 'ci-deploy',
            previousOwnerId: 'alice',
            assigneeIds: ['maria'],
            dueAt: '2026-03-16T09:00:00.000Z',
            reason: 'owner_offboarded',
            grantsDisposition: 'revoke_now',
          },
        },
        { type: IdentityCredentialsRotationFlagged.type, subject: 'ci-deploy', data: { identityId: 'ci-deploy', transferId, reason: 'owner_offboarded' } },
      ]);
  });

  it('falls back to the configured group when the leaver has no manager still here', () => {
    const offboarding = offboarded({ ownedIdentityIds: ['ci-deploy'] });
    // Given Alice's manager has left too, when Alice is offboarded
    given
      .state(state({ managerActive: false }))
      .when(offboarding)
      .thenAssert((events) => {
        // Then the case is assigned to the fallback role, to no person
        expect(events[0]?.data).toMatchObject({ assigneeIds: [], assigneeRole: 'security' });
      });
  });

  it('withdraws the open requests of the NHIs the leaver owned: they are frozen until someone takes ownership', () => {
    given
      .state(state({ openRequests: [{ requestId: 'req-ci', subjectId: 'ci-deploy' }] }))
      .when(offboarded({ ownedIdentityIds: ['ci-deploy'] }))
      .thenAssert((events) => {
        const withdrawal = events.find((event) => event.type === RequestWithdrawn.type);
        expect(withdrawal?.data).toMatchObject({ requestId: 'req-ci', reason: expect.stringMatching(/ci-deploy is frozen: its owner alice was offboarded/) });
      });
  });

  it('decides the same events, with the same ids, when the offboarding is delivered again', () => {
    const facts = state({ openRequests: [{ requestId: 'req-a', subjectId: 'alice' }] });
    const decider = makeLeaverCascadeDecider({ registry, eventId: deterministicEventId, policy });
    const offboarding = offboarded({ ownedIdentityIds: ['ci-deploy'] });
    expect(decider.decide(offboarding, facts)).toEqual(decider.decide(offboarding, facts));
  });

  it('decides nothing for a leaver with no open request and no NHI', () => {
    given.state(state()).when(offboarded()).thenNothing();
  });
});
