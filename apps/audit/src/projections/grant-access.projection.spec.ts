import { GrantProvisioningFailed, registry } from '@grantline/contracts';
import { grantIdOfLifecycle, lifecycleEvents } from '../testing/lifecycle-events.fixture';
import { projectInMemory } from '../testing/in-memory-projection';
import { grantAccessProjection } from './grant-access.projection';
import { toAuditEvent } from './projection';
import type { AuditEvent } from './projection';

const grantId = grantIdOfLifecycle({ requestId: 'req-2' });
const chain = lifecycleEvents({ requestId: 'req-2', subjectId: 'svc-a', entitlementId: 'ent-pg-orders-read' }).map((placed) => placed.event);
const upTo = (type: AuditEvent['type']): AuditEvent[] => chain.slice(0, chain.findIndex((event) => event.type === type) + 1);

describe('grant access projection (who has access)', () => {
  it('Given a created grant, When projected, Then it is pending for its subject and entitlement with the planned expiry', () => {
    const grant = projectInMemory(grantAccessProjection, upTo('iga.grant.created.v1')).get(grantId);

    expect(grant).toMatchObject({ status: 'pending', subjectId: 'svc-a', entitlementId: 'ent-pg-orders-read', expiresAt: '2025-03-01T17:00:00.000Z' });
  });

  it('Given an activated grant, When projected, Then it is active', () => {
    expect(projectInMemory(grantAccessProjection, upTo('iga.grant.activated.v1')).get(grantId)).toMatchObject({
      status: 'active',
      activatedAt: '2025-03-01T09:06:00.000Z',
    });
  });

  it('Given deprovisioning then revocation, When projected, Then it is deprovisioning and then revoked with the reason', () => {
    expect(projectInMemory(grantAccessProjection, upTo('iga.grant.deprovisioning-requested.v1')).get(grantId)?.status).toBe('deprovisioning');
    expect(projectInMemory(grantAccessProjection, chain).get(grantId)).toMatchObject({ status: 'revoked', revokeReason: 'expiry' });
  });

  it('Given a terminal deprovisioning failure, When projected, Then the grant counts as still held (revocation_failed)', () => {
    const failed = toAuditEvent(
      registry.encode(
        GrantProvisioningFailed,
        { grantId, operation: 'deprovision', reason: 'permission denied', code: 'PERMISSION', retriable: false, attempts: 5, terminal: true },
        {
          id: 'fail-1',
          source: 'spec',
          time: '2025-03-01T17:00:30.000Z',
          subject: 'req-2',
          correlationid: 'req-2',
          actor: { kind: 'service', id: 'provisioning' },
        },
      ),
    )!;
    const events = [...upTo('iga.grant.deprovisioning-requested.v1'), failed];

    expect(projectInMemory(grantAccessProjection, events).get(grantId)?.status).toBe('revocation_failed');
  });

  it('Given any prefix of the chain, When the last event is applied again, Then nothing changes', () => {
    for (let length = 1; length <= chain.length; length += 1) {
      const documents = projectInMemory(grantAccessProjection, chain.slice(0, length));
      const last = chain[length - 1]!;
      for (const id of grantAccessProjection.documentIdsOf(last)) {
        expect(grantAccessProjection.apply(documents.get(id), last, id)).toBe(documents.get(id));
      }
    }
  });

  it('Given request and approval events, When asked which grants they touch, Then none', () => {
    expect(chain.slice(0, 6).flatMap((event) => grantAccessProjection.documentIdsOf(event))).toEqual([]);
  });
});
