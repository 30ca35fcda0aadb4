import { GrantActivated, GrantCreated, GrantProvisioningFailed, GrantRevoked, registry } from '@grantline/contracts';
import type { Envelope, EventDefinition } from '@grantline/contracts';
import { foldEvents } from '@grantline/decider';
import { specEventId } from '../testing/event-id';
import type { GrantState } from './grant.state';
import { makeProvisioningDecider } from './provisioning.decider';

const GRANT = 'req-1:ent-1';
let n = 0;
const event = <T>(def: EventDefinition<string, T>, data: T): Envelope =>
  registry.encode(def, data, {
    id: `e-${++n}`,
    source: 'spec',
    time: '2026-01-01T00:00:00.000Z',
    subject: 'req-1',
    correlationid: 'req-1',
    actor: { kind: 'service', id: 'spec' },
  });
const created = event(GrantCreated, {
  grantId: GRANT,
  requestId: 'req-1',
  beneficiaryId: 'ada',
  entitlementId: 'ent-1',
  systemId: 'sys',
  connectorId: 'postgres',
  targetAccount: 'ada',
  expiresAt: '2026-02-01T00:00:00.000Z',
  breakGlass: false,
  decisionId: 'dec-1',
});
const decider = makeProvisioningDecider({ registry, eventId: specEventId, maxAttempts: 3, connectorIds: ['postgres'] });
/** The grant as the decider's evolve folds it (one grant's transitions are evolveGrant's). */
const fold = (events: Envelope[]): GrantState | undefined => foldEvents(decider, events).grant(GRANT);

describe('evolveGrant', () => {
  it('created → requested; a second created changes nothing', () => {
    expect(fold([created])?.status).toBe('requested');
    expect(fold([created, created])).toEqual(fold([created]));
  });

  it('ignores events for a grant it has not seen created', () => {
    expect(fold([event(GrantRevoked, { grantId: GRANT, reason: 'expiry', revokedAt: '2026-01-02T00:00:00.000Z' })])).toBeUndefined();
  });

  it('a non-terminal failure keeps the state; activation only from requested/provisioning', () => {
    const failed = event(GrantProvisioningFailed, {
      grantId: GRANT,
      operation: 'provision',
      reason: 'x',
      code: 'unavailable',
      retriable: true,
      attempts: 1,
      terminal: false,
    });
    expect(fold([created, failed])?.status).toBe('requested');
    const revoked = event(GrantRevoked, { grantId: GRANT, reason: 'expiry', revokedAt: '2026-01-02T00:00:00.000Z' });
    const activated = event(GrantActivated, { grantId: GRANT, activatedAt: '2026-01-01T00:00:00.000Z', expiresAt: '2026-02-01T00:00:00.000Z' });
    expect(fold([created, revoked, activated])?.status).toBe('revoked');
  });
});
