// Builders for the intake's specs: one request's lifecycle as contract envelopes, with ids and times the test controls.
import {
  GrantCreated,
  ApprovalRequestApproved,
  GrantActivated,
  GrantProvisioningFailed,
  GrantRevoked,
  PolicyDecisionRecorded,
  RequestSubmitted,
  RequestWithdrawn,
  registry,
} from '@grantline/contracts';
import type { DataOf, Envelope, EventDefinition, RequestSubmittedData } from '@grantline/contracts';

export const T0 = '2025-06-02T10:00:00.000Z';
let sequence = 0;

export function envelope<TDef extends EventDefinition>(def: TDef, data: DataOf<TDef>, overrides: { id?: string; subject?: string } = {}): Envelope {
  sequence += 1;
  const subject = overrides.subject ?? (data as { requestId?: string }).requestId ?? 'req-1';
  return registry.encode(def, data, {
    id: overrides.id ?? `evt-${sequence}`,
    source: 'grantline/spec',
    time: new Date(Date.parse(T0) + sequence * 1000).toISOString(),
    subject,
    correlationid: subject,
    actor: { kind: 'service', id: 'spec' },
  });
}

export const submitted = (overrides: Partial<RequestSubmittedData> = {}): Envelope =>
  envelope(RequestSubmitted, {
    requestId: 'req-1',
    requesterId: 'alice',
    subject: { id: 'alice', kind: 'human' },
    items: { entitlementIds: ['orders-staging-read'] },
    justification: 'debugging',
    duration: 'PT8H',
    channel: 'api',
    ...overrides,
  } as RequestSubmittedData);

export const decided = (effect: 'deny' | 'auto_approve' | 'require_approval', requestId = 'req-1'): Envelope =>
  envelope(PolicyDecisionRecorded, {
    decisionId: `dec-${requestId}`,
    requestId,
    effect,
    ...(effect === 'require_approval' ? { route: { stages: [{ id: 'manager', approvers: [{ resolver: 'manager' }], quorum: 1 }] } } : {}),
    constraints: { maxDuration: 'P30D', breakGlassAllowed: false },
    risk: { score: 10, factors: [] },
    sodConflicts: [],
    reasons: [effect === 'deny' ? 'least privilege' : 'low risk'],
    matchedRules: ['rule-1'],
    recordOnly: [],
    bundleDigest: 'a'.repeat(64),
    inputSnapshot: {},
    evaluation: { outcome: 'recorded_before_v2' },
  } as DataOf<typeof PolicyDecisionRecorded>);

export const approved = (requestId = 'req-1', entitlementIds = ['orders-staging-read']): Envelope =>
  envelope(ApprovalRequestApproved, {
    requestId,
    beneficiaryId: 'alice',
    grants: entitlementIds.map((entitlementId) => ({ grantId: `${requestId}:${entitlementId}`, entitlementId, expiresAt: '2025-06-02T18:00:00.000Z' })),
    basis: { kind: 'auto_approved', decisionId: `dec-${requestId}`, approvals: [] },
  });

export const activated = (grantId: string): Envelope =>
  envelope(GrantActivated, { grantId, activatedAt: T0, expiresAt: '2025-06-02T18:00:00.000Z' }, { subject: grantId });

export const revoked = (grantId: string): Envelope => envelope(GrantRevoked, { grantId, reason: 'expiry', revokedAt: T0 }, { subject: grantId });

export const failedForGood = (grantId: string): Envelope =>
  envelope(
    GrantProvisioningFailed,
    { grantId, operation: 'provision', reason: 'role missing', code: 'target_missing', retriable: false, attempts: 1, terminal: true },
    { subject: grantId },
  );

export const withdrawn = (requestId = 'req-1'): Envelope => envelope(RequestWithdrawn, { requestId, withdrawnBy: 'alice' });

/** The grant a request's approval creates (provisioning's fact), keyed by the request. */
export const grantCreated = (requestId: string, entitlementId: string): Envelope =>
  envelope(GrantCreated, {
    grantId: `${requestId}:${entitlementId}`,
    requestId,
    beneficiaryId: 'alice',
    entitlementId,
    systemId: 'pg',
    connectorId: 'pg-main',
    targetAccount: 'alice',
    expiresAt: '2025-06-02T18:00:00.000Z',
    breakGlass: false,
    decisionId: `dec-${requestId}`,
  });
