import {
  ApprovalCertificationDecided,
  ApprovalCertificationLapsed,
  ConnectorDeprovisionRequested,
  ConnectorProvisionRequested,
  GrantDeprovisioningRequested,
  GrantExpiryShortened,
  registry,
} from '@grantline/contracts';
import type { DataOf, Envelope, EventDefinition, ProvisionRequestedData } from '@grantline/contracts';
import { foldEvents } from '@grantline/decider';
import { deciderSpec } from '@grantline/testing';
import { specEventId } from '../testing/event-id';
import { ProvisioningScenario, SCENARIO_EXPIRY } from '../testing/provisioning-scenario';
import { makeProvisioningDecider } from './provisioning.decider';

// A certification's outcome on a live grant: revoke (answered or lapsed) takes the normal removal path; reduce moves
// the expiry earlier (GrantExpiryShortened, which the scheduler follows).
const decider = makeProvisioningDecider({ registry, eventId: specEventId, maxAttempts: 3, connectorIds: ['postgres'] });
const given = deciderSpec(decider);
const scenario = new ProvisioningScenario();
const REQUEST = 'req-cert';
const GRANT = scenario.grantIdOf(REQUEST);
const CAMPAIGN = 'quarterly:on-demand:2026-01-10T10:00:00.000Z';

const approval = <T extends EventDefinition>(def: T, data: DataOf<T>, id: string): Envelope =>
  registry.encode(def, data, {
    id,
    source: 'grantline/approval',
    time: '2026-01-10T10:00:00.000Z',
    subject: CAMPAIGN,
    correlationid: CAMPAIGN,
    actor: { kind: 'user', id: 'bob' },
  });
const decided = (decision: 'certify' | 'revoke' | 'reduce', newExpiresAt?: string): Envelope =>
  approval(
    ApprovalCertificationDecided,
    {
      campaignId: CAMPAIGN,
      itemId: `${CAMPAIGN}/${GRANT}`,
      grantId: GRANT,
      decision,
      ...(newExpiresAt !== undefined ? { newExpiresAt } : {}),
      reviewerId: 'bob',
      decidedAt: '2026-01-10T10:00:00.000Z',
    },
    `evt-decided-${decision}`,
  );
const lapsed = approval(
  ApprovalCertificationLapsed,
  {
    campaignId: CAMPAIGN,
    itemId: `${CAMPAIGN}/${GRANT}`,
    grantId: GRANT,
    action: 'revoke',
    previousDueAt: '2026-01-10T10:00:00.000Z',
    lapsedAt: '2026-01-10T10:00:01.000Z',
  },
  'evt-lapsed',
);

/** A live grant: the catalogue, the identity, the approval and the connector's answer, each decided in turn. */
const liveGrant = (): Envelope[] => {
  const history: Envelope[] = [];
  const handle = (input: Envelope): readonly Envelope[] => {
    const out = decider.decide(input, foldEvents(decider, [...history, input]));
    history.push(input, ...out);
    return out;
  };
  handle(scenario.catalog());
  handle(scenario.identity());
  const provision = handle(scenario.approved(REQUEST)).find((event) => event.type === ConnectorProvisionRequested.type);
  handle(scenario.provisioned(provision?.data as ProvisionRequestedData));
  return history;
};

describe('provisioning: certification outcomes', () => {
  it('a revoke removes the grant by the normal path, reason revocation, triggered by the certification', () => {
    given(liveGrant())
      .when(decided('revoke'))
      .thenMatches([
        {
          type: GrantDeprovisioningRequested.type,
          causationid: 'evt-decided-revoke',
          data: { grantId: GRANT, reason: 'revocation', triggeredBy: 'evt-decided-revoke' },
        },
        { type: ConnectorDeprovisionRequested.type, data: { grantId: GRANT, reason: 'revocation' } },
      ]);
  });

  it('a lapsed item (no answer by the deadline) is revoked the same way', () => {
    given(liveGrant())
      .when(lapsed)
      .thenMatches([
        { type: GrantDeprovisioningRequested.type, data: { reason: 'revocation', triggeredBy: 'evt-lapsed' } },
        { type: ConnectorDeprovisionRequested.type },
      ]);
  });

  it('a certify changes nothing', () => {
    given(liveGrant()).when(decided('certify')).thenNothing();
  });

  it('a reduce shortens the expiry of the live grant; the state follows; a later expiry is never an extension', () => {
    given(liveGrant())
      .when(decided('reduce', '2026-01-10T12:00:00.000Z'))
      .thenAssert((events, state) => {
        expect(events).toHaveLength(1);
        expect(events[0]).toMatchObject({
          type: GrantExpiryShortened.type,
          subject: REQUEST,
          data: { grantId: GRANT, previousExpiresAt: SCENARIO_EXPIRY, expiresAt: '2026-01-10T12:00:00.000Z', reason: 'certification_reduced' },
        });
        expect(state.grant(GRANT)?.expiresAt).toBe('2026-01-10T12:00:00.000Z');
      });
    given(liveGrant()).when(decided('reduce', '2026-02-01T00:00:00.000Z')).thenNothing();
  });

  it('the same outcome delivered twice removes once', () => {
    const history = liveGrant();
    const first = decider.decide(decided('revoke'), foldEvents(decider, history));
    given([...history, decided('revoke'), ...first])
      .when(decided('revoke'))
      .thenNothing();
  });
});
