import { grantIdOfLifecycle, lifecycleEvents, BUNDLE_DIGEST } from '../testing/lifecycle-events.fixture';
import { projectInMemory } from '../testing/in-memory-projection';
import { grantExplanationProjection } from './grant-explanation.projection';

const grantId = grantIdOfLifecycle({ requestId: 'req-3' });
const chain = lifecycleEvents({ requestId: 'req-3' }).map((placed) => placed.event);

describe('grant explanation projection', () => {
  it('Given the whole chain, When projected, Then the request holds who/why/ticket, the decision, the approvals, provisioning and the end', () => {
    const explanation = projectInMemory(grantExplanationProjection, chain).get('req-3');

    expect(explanation?.grantIds).toEqual([grantId]);
    expect(explanation?.request).toMatchObject({
      requesterId: 'alice',
      submittedBy: { id: 'alice' },
      justification: 'Nightly export job needs read access to orders',
      ticket: { system: 'jira', id: 'OPS-123' },
      subject: { id: 'svc-orders-exporter', kind: 'service_account' },
    });
    expect(explanation?.decision).toMatchObject({
      effect: 'require_approval',
      bundleDigest: BUNDLE_DIGEST,
      matchedRules: ['nhi-owner-approval'],
      reasons: ['Service accounts need their owner of record to approve'],
    });
    expect(explanation?.approvals).toEqual([
      expect.objectContaining({ approverId: 'bob', decision: 'approve', comment: 'Matches the export runbook', decidedAt: '2025-03-01T09:04:00.000Z' }),
    ]);
    expect(explanation?.selfApprovalAttempts).toEqual([expect.objectContaining({ attemptedById: 'alice', relation: 'requester' })]);
    expect(explanation?.outcome).toMatchObject({ kind: 'approved' });
    expect(explanation?.grants).toEqual([
      expect.objectContaining({
        grantId,
        connectorId: 'pg-main',
        systemId: 'pg-orders',
        provisioningRequestedAt: '2025-03-01T09:05:00.000Z',
        activatedAt: '2025-03-01T09:06:00.000Z',
        expiryTimerFiredAt: '2025-03-01T17:00:00.000Z',
        deprovisionReason: 'expiry',
        revokedAt: '2025-03-01T17:01:00.000Z',
        revokeReason: 'expiry',
      }),
    ]);
  });

  it('Given every event applied twice in a row, When projected, Then the document equals the one projected once', () => {
    const twice = chain.flatMap((event) => [event, event]);

    expect(projectInMemory(grantExplanationProjection, twice)).toEqual(projectInMemory(grantExplanationProjection, chain));
  });

  it('Given a projected event, When it is applied again, Then the same document comes back', () => {
    const documents = projectInMemory(grantExplanationProjection, chain);
    const before = documents.get('req-3');

    expect(grantExplanationProjection.apply(before, chain[4]!, 'req-3')).toBe(before);
  });

  it('Given grant events read before the request events (another topic first), When projected, Then the result is the same', () => {
    const grantsFirst = [...chain.slice(6), ...chain.slice(0, 6)];

    expect(projectInMemory(grantExplanationProjection, grantsFirst).get('req-3')).toEqual(projectInMemory(grantExplanationProjection, chain).get('req-3'));
  });

  it('Given an approval deadline timer, When asked which documents it touches, Then none (only expiry timers explain a grant)', () => {
    const timer = chain.find((event) => event.type === 'iga.timer.fired.v2')!;
    const deadline = { ...timer, data: { ...timer.data, kind: 'approval_deadline', target: { taskId: 't-1' } } } as typeof timer;

    expect(grantExplanationProjection.documentIdsOf(deadline)).toEqual([]);
  });
});
