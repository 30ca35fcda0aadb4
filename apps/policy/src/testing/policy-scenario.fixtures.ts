// Builders for the policy service's specs: a small catalogue and population that exercises the shipped
// bundle (manager and owner routes, machine guardrails, separation of duties), as contract events.
import {
  ApprovalBreakGlassGranted,
  ApprovalReviewOpened,
  CatalogPublished,
  GrantActivated,
  GrantCreated,
  IdentityUpserted,
  RequestSubmitted,
  registry as catalogue,
} from '@grantline/contracts';
import type { CatalogPublishedData, Envelope, EventRegistry, GrantCreatedData, Identity, RequestSubmittedData } from '@grantline/contracts';

export const SCENARIO_TIME = '2025-06-02T10:00:00.000Z';
export const CATALOG_DIGEST = 'b'.repeat(64);

export const CATALOG: CatalogPublishedData = {
  catalogVersion: 1,
  digest: CATALOG_DIGEST,
  systems: [
    { systemId: 'payments', name: 'Payments', connectorId: 'payments', ownerId: 'dave', environment: 'prod' },
    { systemId: 'orders-db', name: 'Orders database', connectorId: 'postgres-orders', ownerId: 'dave', environment: 'prod' },
    { systemId: 'wiki', name: 'Wiki', connectorId: 'wiki', ownerId: 'erin', environment: 'nonprod' },
  ],
  entitlements: [
    {
      entitlementId: 'payments-write',
      systemId: 'payments',
      name: 'Payments maker',
      externalRef: 'payments_maker',
      sensitivity: 'medium',
      environment: 'prod',
      ownerId: 'dave',
      privileges: ['read', 'write'],
      maxDuration: 'P30D',
      requestable: true,
    },
    {
      entitlementId: 'payments-approver',
      systemId: 'payments',
      name: 'Payments checker',
      externalRef: 'payments_checker',
      sensitivity: 'medium',
      environment: 'prod',
      ownerId: 'dave',
      privileges: ['read'],
      maxDuration: 'P30D',
      requestable: true,
    },
    {
      entitlementId: 'orders-read',
      systemId: 'orders-db',
      name: 'Orders read',
      externalRef: 'orders_read',
      sensitivity: 'high',
      environment: 'prod',
      ownerId: 'dave',
      privileges: ['read'],
      maxDuration: 'P30D',
      requestable: true,
    },
    {
      entitlementId: 'orders-write',
      systemId: 'orders-db',
      name: 'Orders write',
      externalRef: 'orders_write',
      sensitivity: 'medium',
      environment: 'prod',
      ownerId: 'dave',
      privileges: ['write'],
      maxDuration: 'P7D',
      requestable: true,
    },
    {
      entitlementId: 'wiki-read',
      systemId: 'wiki',
      name: 'Wiki read',
      externalRef: 'wiki_read',
      sensitivity: 'low',
      environment: 'nonprod',
      ownerId: 'erin',
      privileges: ['read'],
      maxDuration: 'P30D',
      requestable: true,
    },
    {
      entitlementId: 'wiki-legacy',
      systemId: 'wiki',
      name: 'Wiki legacy',
      externalRef: 'wiki_legacy',
      sensitivity: 'low',
      environment: 'nonprod',
      ownerId: 'erin',
      privileges: ['read'],
      maxDuration: 'P30D',
      requestable: false,
    },
  ],
  accessPackages: [{ accessPackageId: 'pkg-wiki', name: 'Wiki reader', ownerId: 'erin', entitlementIds: ['wiki-read'] }],
};

export const IDENTITIES: readonly Identity[] = [
  { kind: 'human', identityId: 'alice', displayName: 'Alice', team: 'orders', status: 'active', managerId: 'bob', attributes: {} },
  { kind: 'human', identityId: 'bob', displayName: 'Bob', status: 'active', attributes: {} },
  { kind: 'human', identityId: 'olga', displayName: 'Olga', status: 'offboarded', managerId: 'bob', attributes: {} },
  { kind: 'ci_pipeline', identityId: 'ci-orders', displayName: 'Orders pipeline', status: 'active', ownerId: 'alice', attributes: {} },
];

const meta = (id: string, subject: string, time = SCENARIO_TIME): Parameters<EventRegistry['encode']>[2] => ({
  id,
  source: 'grantline/policy-spec',
  time,
  subject,
  correlationid: subject,
  actor: { kind: 'system', id: 'policy-spec' },
});

export const identityEvents = (registry: EventRegistry = catalogue, identities: readonly Identity[] = IDENTITIES): Envelope[] =>
  identities.map((identity) => registry.encode(IdentityUpserted, { identity }, meta(`identity-${identity.identityId}`, identity.identityId)));

export const catalogEvent = (registry: EventRegistry = catalogue, catalog: CatalogPublishedData = CATALOG): Envelope =>
  registry.encode(CatalogPublished, catalog, meta(`catalog-${catalog.catalogVersion}`, 'catalog'));

export const grantEvents = (
  grant: Pick<GrantCreatedData, 'requestId' | 'beneficiaryId' | 'entitlementId' | 'systemId'> & { active?: boolean; expiresAt?: string },
  registry: EventRegistry = catalogue,
): Envelope[] => {
  const grantId = `${grant.requestId}:${grant.entitlementId}`;
  const expiresAt = grant.expiresAt ?? '2025-07-01T00:00:00.000Z';
  const created = registry.encode(
    GrantCreated,
    {
      grantId,
      requestId: grant.requestId,
      beneficiaryId: grant.beneficiaryId,
      entitlementId: grant.entitlementId,
      systemId: grant.systemId,
      connectorId: grant.systemId,
      targetAccount: grant.beneficiaryId,
      expiresAt,
      breakGlass: false,
      decisionId: `decision-${grant.requestId}`,
    },
    meta(`grant-created-${grantId}`, grant.requestId),
  );
  if (grant.active === false) return [created];
  const activated = registry.encode(GrantActivated, { grantId, activatedAt: SCENARIO_TIME, expiresAt }, meta(`grant-activated-${grantId}`, grant.requestId));
  return [created, activated];
};

export type RequestOverrides = Partial<Omit<RequestSubmittedData, 'requestId'>>;

/** A submitted request (latest version); by default Alice asks for a week of high-sensitivity orders reads. */
export const requestEvent = (requestId: string, overrides: RequestOverrides = {}, registry: EventRegistry = catalogue): Envelope<RequestSubmittedData> => {
  const data: RequestSubmittedData = {
    requestId,
    requesterId: 'alice',
    subject: { id: 'alice', kind: 'human' },
    items: { entitlementIds: ['orders-read'] },
    justification: 'quarterly revenue reconciliation',
    channel: 'api',
    ...(overrides.endsAt === undefined ? { duration: 'P7D' } : {}),
    ...overrides,
  };
  return registry.encode(RequestSubmitted, data, meta(`request-${requestId}`, requestId));
};

export const approvalMeta = (id: string, requestId: string): Parameters<EventRegistry['encode']>[2] => ({
  id,
  source: 'grantline/approval',
  time: '2025-06-01T10:00:00.000Z',
  subject: requestId,
  correlationid: requestId,
  actor: { kind: 'service', id: 'approval' },
});
export const INCIDENT = { system: 'jira' as const, id: 'INC-7' };
/** Alice is on call: the shipped bundle lets her break glass with a ticket. */
export const onCallAlice = (): Envelope =>
  catalogue.encode(
    IdentityUpserted,
    { identity: { ...IDENTITIES[0]!, attributes: { onCall: true } } },
    { ...approvalMeta('alice-on-call', 'alice'), actor: { kind: 'service', id: 'intake' } },
  );

/** What approval publishes when alice's earlier break-glass request `requestId` is granted. */
export const usedBreakGlass = (requestId: string): Envelope[] => [
  catalogue.encode(
    ApprovalBreakGlassGranted,
    {
      requestId,
      beneficiaryId: 'alice',
      incidentRef: INCIDENT,
      grants: [{ grantId: `${requestId}:orders-read`, entitlementId: 'orders-read', expiresAt: '2025-06-01T12:00:00.000Z' }],
      reviewDueAt: '2025-06-03T10:00:00.000Z',
      decisionId: `decision-${requestId}`,
    },
    approvalMeta(`bg-${requestId}`, requestId),
  ),
  catalogue.encode(
    ApprovalReviewOpened,
    {
      reviewId: `${requestId}:post-incident-review`,
      kind: 'break_glass_post_incident',
      requestId,
      grantIds: [`${requestId}:orders-read`],
      reviewerIds: ['bob'],
      dueAt: '2025-06-03T10:00:00.000Z',
    },
    approvalMeta(`review-${requestId}`, requestId),
  ),
];
