import { GrantDeprovisioningRequested, GrantProvisioningFailed, GrantRevoked, RevocationRequested, registry } from '@grantline/contracts';
import type { Envelope, EventDefinition } from '@grantline/contracts';
import { toAuditEvent } from '../projections/projection';
import type { AuditEvent } from '../projections/projection';
import { storeOver } from '../testing/in-memory-store';
import { grantIdOfLifecycle, lifecycleEvents } from '../testing/lifecycle-events.fixture';
import { driftFinding, reconciliationCompleted } from '../testing/reconciliation-events.fixture';
import { accessDenied } from '../testing/identity-events.fixture';
import { ACCESS_DENIALS_LIMIT, AuditQueryService, RECONCILIATIONS_LIMIT } from './audit-query.service';

function event<TData>(def: EventDefinition<string, TData>, data: TData, id: string, time: string): AuditEvent {
  const envelope: Envelope = registry.encode(def, data, {
    id,
    source: 'spec',
    time,
    subject: 'req-q',
    correlationid: 'req-q',
    actor: { kind: 'user', id: 'carol' },
  });
  return toAuditEvent(envelope)!;
}

const grantId = grantIdOfLifecycle({ requestId: 'req-q' });
const untilActive = lifecycleEvents({ requestId: 'req-q', subjectId: 'svc-q' })
  .map((placed) => placed.event)
  .filter((e) => !['iga.timer.fired.v2', 'iga.grant.deprovisioning-requested.v1', 'iga.grant.revoked.v1'].includes(e.type));
const manualRevocation = [
  event(
    RevocationRequested,
    { revocationId: 'rev-1', requestedBy: 'carol', reason: 'Ticket OPS-999 asks for removal', grantId },
    'q-rev',
    '2025-03-01T10:00:00.000Z',
  ),
  event(
    GrantDeprovisioningRequested,
    { grantId, connectorId: 'pg-main', reason: 'revocation', idempotencyKey: `${grantId}:deprovision`, attempt: 1 },
    'q-deprov',
    '2025-03-01T10:00:01.000Z',
  ),
  event(GrantRevoked, { grantId, reason: 'revocation', revokedAt: '2025-03-01T10:00:02.000Z' }, 'q-revoked', '2025-03-01T10:00:02.000Z'),
];

describe('AuditQueryService', () => {
  it('Given a grant revoked on request, When explained, Then the ending names who asked, why and when', async () => {
    const service = new AuditQueryService(storeOver([...untilActive, ...manualRevocation]));

    const view = await service.explain(grantId);

    expect(view?.ending).toEqual({
      reason: 'revocation',
      at: '2025-03-01T10:00:02.000Z',
      requestedBy: 'carol',
      requestReason: 'Ticket OPS-999 asks for removal',
    });
    expect(view?.revocationRequests).toHaveLength(1);
    expect(view?.missing).toEqual([]);
  });

  it('Given an active grant, When explained, Then it has no ending yet', async () => {
    const view = await new AuditQueryService(storeOver(untilActive)).explain(grantId);

    expect(view?.ending).toBeUndefined();
    expect(view?.grant.activatedAt).toBe('2025-03-01T09:06:00.000Z');
  });

  it('Given only grant events (the request topic not read yet), When explained, Then the missing links are named', async () => {
    const grantOnly = untilActive.filter((e) => e.type.startsWith('iga.grant.'));

    const view = await new AuditQueryService(storeOver(grantOnly)).explain(grantId);

    expect(view?.missing).toEqual(['request', 'policy_decision', 'approval_outcome']);
  });

  it('Given an unknown grant, When explained, Then there is nothing to show', async () => {
    expect(await new AuditQueryService(storeOver(untilActive)).explain('nope')).toBeUndefined();
  });

  it('Given a revoked grant, When asking who has access, Then it is listed only with includeEnded', async () => {
    const service = new AuditQueryService(storeOver([...untilActive, ...manualRevocation]));

    expect(await service.grants({ subjectId: 'svc-q' })).toEqual({ grants: [] });
    expect((await service.grants({ subjectId: 'svc-q', includeEnded: 'true' })).grants).toEqual([
      expect.objectContaining({ grantId, status: 'revoked', revokeReason: 'revocation' }),
    ]);
    expect((await new AuditQueryService(storeOver(untilActive)).grants({ entitlementId: 'ent-pg-orders-read' })).grants).toEqual([
      expect.objectContaining({ grantId, status: 'active', subjectId: 'svc-q' }),
    ]);
  });

  it('Given a grant active from 09:06 and revoked at 10:00:02, When asking who had access as of an instant, Then only the instants in between list it', async () => {
    const service = new AuditQueryService(storeOver([...untilActive, ...manualRevocation]));
    const asOf = async (instant: string): Promise<string[]> => (await service.grants({ subjectId: 'svc-q', asOf: instant })).grants.map((g) => g.grantId);

    expect(await asOf('2025-03-01T09:05:59.999Z')).toEqual([]);
    expect(await asOf('2025-03-01T09:06:00.000Z')).toEqual([grantId]);
    // the same instant in another offset is the same instant
    expect(await asOf('2025-03-01T11:00:02.000+01:00')).toEqual([]);
    expect(await asOf('2025-03-01T10:00:01.999Z')).toEqual([grantId]);
    expect(await asOf('2025-03-01T10:00:02.000Z')).toEqual([]);
  });

  it('Given a grant whose removal failed for good, When asking as of any later instant, Then it is still listed: the access may still work', async () => {
    const removalFailed = event(
      GrantProvisioningFailed,
      { grantId, operation: 'deprovision', reason: 'permission denied', code: 'permission', retriable: false, attempts: 1, terminal: true },
      'q-deprov-failed',
      '2025-03-01T10:00:02.000Z',
    );
    const service = new AuditQueryService(storeOver([...untilActive, ...manualRevocation.slice(0, 2), removalFailed]));

    expect((await service.grants({ subjectId: 'svc-q', asOf: '2025-06-01T00:00:00.000Z' })).grants).toEqual([
      expect.objectContaining({ grantId, status: 'revocation_failed' }),
    ]);
  });

  describe('reconciliations and drift', () => {
    const day = (n: number): string => new Date(Date.UTC(2025, 2, 1 + n, 2)).toISOString();
    const completion = (n: number, unexpectedInTarget = 0): AuditEvent =>
      reconciliationCompleted(
        {
          reportId: `rpt-${n}`,
          connectorId: 'pg-main',
          observedAt: day(n),
          assignments: 3,
          grantsExpected: 3,
          drift: { missingInTarget: 0, unexpectedInTarget, expiredButPresent: 0 },
        },
        `completed-${n}`,
      );
    const unexpectedOn = (n: number, connectorId = 'pg-main'): AuditEvent =>
      driftFinding({
        eventId: `drift-${connectorId}-${n}`,
        connectorId,
        kind: 'unexpected_in_target',
        targetAccount: 'mallory',
        externalRef: 'orders_admin',
        detectedAt: day(n),
        correlationId: `rpt-${n}`,
      });

    it('Given a connector reconciled more often than the limit, When listed, Then the newest reconciliations come first, without bookkeeping', async () => {
      const completions = Array.from({ length: RECONCILIATIONS_LIMIT + 1 }, (_, n) => completion(n));
      const service = new AuditQueryService(storeOver([...completions, unexpectedOn(RECONCILIATIONS_LIMIT + 1), unexpectedOn(3, 'ldap-corp')]));

      const { reconciliations } = await service.reconciliations({ connectorId: 'pg-main' });

      expect(reconciliations).toHaveLength(RECONCILIATIONS_LIMIT);
      expect(reconciliations.map((reconciliation) => reconciliation.observedAt).slice(0, 3)).toEqual([
        day(RECONCILIATIONS_LIMIT + 1),
        day(RECONCILIATIONS_LIMIT),
        day(RECONCILIATIONS_LIMIT - 1),
      ]);
      expect(reconciliations[0]).toEqual({
        connectorId: 'pg-main',
        observedAt: day(RECONCILIATIONS_LIMIT + 1),
        completed: false,
        findings: [expect.objectContaining({ eventId: `drift-pg-main-${RECONCILIATIONS_LIMIT + 1}` })],
      });
      expect(reconciliations[1]).toEqual({
        connectorId: 'pg-main',
        observedAt: day(RECONCILIATIONS_LIMIT),
        completed: true,
        reportId: `rpt-${RECONCILIATIONS_LIMIT}`,
        assignments: 3,
        grantsExpected: 3,
        drift: { missingInTarget: 0, unexpectedInTarget: 0, expiredButPresent: 0 },
        findings: [],
      });
      expect(reconciliations.map((reconciliation) => reconciliation.observedAt)).not.toContain(day(0));
    });

    it('Given a completed reconciliation with drift and a newer one still arriving, When asking for the drift, Then the completed one answers', async () => {
      const service = new AuditQueryService(storeOver([unexpectedOn(1), completion(1, 1), completion(0), unexpectedOn(2), unexpectedOn(1, 'ldap-corp')]));

      expect(await service.currentDrift({ connectorId: 'pg-main' })).toEqual({
        connectorId: 'pg-main',
        observedAt: day(1),
        reportId: 'rpt-1',
        drift: { missingInTarget: 0, unexpectedInTarget: 1, expiredButPresent: 0 },
        findings: [
          {
            eventId: 'drift-pg-main-1',
            kind: 'unexpected_in_target',
            systemId: 'sys-pg-main',
            targetAccount: 'mallory',
            externalRef: 'orders_admin',
            remediation: 'report_only',
          },
        ],
        findingsPending: 0,
      });
    });

    it('Given a summary projected before its finding, When asking for the drift, Then the answer says one finding is still pending', async () => {
      const service = new AuditQueryService(storeOver([completion(1, 1)]));

      expect(await service.currentDrift({ connectorId: 'pg-main' })).toMatchObject({ reportId: 'rpt-1', findings: [], findingsPending: 1 });
    });

    it('Given the latest completed reconciliation found nothing, When asking for the drift, Then there is none even though an older one had some', async () => {
      const service = new AuditQueryService(storeOver([unexpectedOn(1), completion(1, 1), completion(2)]));

      expect(await service.currentDrift({ connectorId: 'pg-main' })).toEqual({
        connectorId: 'pg-main',
        observedAt: day(2),
        reportId: 'rpt-2',
        drift: { missingInTarget: 0, unexpectedInTarget: 0, expiredButPresent: 0 },
        findings: [],
        findingsPending: 0,
      });
    });

    it('Given a connector with findings but no completed reconciliation, or none at all, When asking for the drift, Then there is no answer', async () => {
      const service = new AuditQueryService(storeOver([unexpectedOn(1, 'ldap-corp'), completion(1)]));

      expect(await service.currentDrift({ connectorId: 'ldap-corp' })).toBeUndefined();
      expect(await service.currentDrift({ connectorId: 'nobody' })).toBeUndefined();
      expect(await service.reconciliations({ connectorId: 'nobody' })).toEqual({ reconciliations: [] });
    });
  });

  describe('access denials', () => {
    const minute = (n: number): string => new Date(Date.parse('2025-03-01T09:00:00.000Z') + n * 60_000).toISOString();

    it('Given refusals of several callers and services, When listed, Then newest first, filtered by caller and by service, without bookkeeping', async () => {
      const service = new AuditQueryService(
        storeOver([
          accessDenied({ principalId: 'mallory', at: minute(1) }, 'd-1'),
          accessDenied({ principalId: 'mallory', service: 'intake', operation: 'POST /v1/grants/:id/revoke', at: minute(3) }, 'd-3'),
          accessDenied({ principalId: 'trudy', at: minute(2) }, 'd-2'),
        ]),
      );

      expect((await service.accessDenials({})).denials.map((denial) => denial.eventId)).toEqual(['d-3', 'd-2', 'd-1']);
      expect((await service.accessDenials({ principalId: 'mallory' })).denials.map((denial) => denial.eventId)).toEqual(['d-3', 'd-1']);
      expect((await service.accessDenials({ principalId: 'mallory', service: 'audit' })).denials).toEqual([
        {
          eventId: 'd-1',
          principalId: 'mallory',
          principalKind: 'person',
          roles: ['member'],
          service: 'audit',
          operation: 'GET /v1/audit/requests/:requestId/timeline',
          status: 404,
          reason: 'unknown request',
          at: minute(1),
          suppressedSincePrevious: 0,
        },
      ]);
    });

    it(`Given more than ${ACCESS_DENIALS_LIMIT} refusals, When listed, Then the newest ${ACCESS_DENIALS_LIMIT} are shown`, async () => {
      const many = Array.from({ length: ACCESS_DENIALS_LIMIT + 5 }, (_, n) =>
        accessDenied({ principalId: 'mallory', at: minute(n) }, `d-${String(n).padStart(3, '0')}`),
      );

      const listed = (await new AuditQueryService(storeOver(many)).accessDenials({ principalId: 'mallory' })).denials;

      expect(listed).toHaveLength(ACCESS_DENIALS_LIMIT);
      expect(listed[0]?.at).toBe(minute(ACCESS_DENIALS_LIMIT + 4));
    });
  });
});
