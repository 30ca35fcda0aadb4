// Builders for the approval specs: a small organisation, a catalogue, requests and policy decisions, all as
// real contract envelopes (validated by the registry). Unit and integration specs share them.
import {
  CatalogPublished,
  IdentityUpserted,
  PolicyDecisionRecorded,
  RequestSubmitted,
  RequestWithdrawn,
  TimerFired,
  registry as catalogue,
} from '@grantline/contracts';
import type { ApprovalStage, DecisionRecordedData, Envelope, EventRegistry, Identity, RequestSubmittedData, TimerFiredData } from '@grantline/contracts';
import { deterministicEventId } from '@grantline/messaging';
import { DEFAULT_APPROVAL_POLICY } from '../domain/approval.policy';
import type { ApprovalPolicy } from '../domain/approval.policy';
import { makeApprovalDecider } from '../domain/approval.decide';
import type { ApprovalDecider, DecideContext } from '../domain/approval.decide';
import { emptyDirectory, evolveDirectory } from '../domain/directory';
import type { Directory } from '../domain/directory';

export const T0 = '2026-01-05T09:00:00.000Z';
export const DIGEST = 'b'.repeat(64);
const intake = { kind: 'service', id: 'intake' } as const;

let sequence = 0;
const nextId = (prefix: string): string => `${prefix}-${++sequence}`;

const meta = (subject: string, time = T0, id = nextId('evt')) => ({ id, source: 'spec/approval', time, subject, correlationid: subject, actor: intake });

export const human = (identityId: string, extra: { managerId?: string; groups?: string } = {}): Identity => ({
  identityId,
  kind: 'human',
  displayName: identityId,
  status: 'active',
  attributes: extra.groups !== undefined ? { groups: extra.groups } : {},
  ...(extra.managerId !== undefined ? { managerId: extra.managerId } : {}),
});

/**
 * alice (manager bob) asks; dave owns the orders and wiki entitlements; carol owns the svc-orders service
 * account; sec-1 and sec-2 are the security group (via their `groups` attribute).
 */
export const organisation = (registry: EventRegistry = catalogue, prefix = ''): Envelope[] => {
  const p = (id: string): string => `${prefix}${id}`;
  const people: Identity[] = [
    human(p('alice'), { managerId: p('bob') }),
    human(p('bob')),
    human(p('carol'), { managerId: p('bob') }),
    human(p('dave')),
    human(p('erin'), { managerId: p('bob') }),
    human(p('sec-1'), { groups: 'security' }),
    human(p('sec-2'), { groups: 'security,sre' }),
    { identityId: p('svc-orders'), kind: 'service_account', displayName: 'orders exporter', status: 'active', attributes: {}, ownerId: p('carol') },
  ];
  return people.map((identity) => registry.encode(IdentityUpserted, { identity }, meta(identity.identityId)));
};

/** One identity upsert, e.g. a person the organisation above does not know yet. */
export const identityUpserted = (identity: Identity, registry: EventRegistry = catalogue): Envelope =>
  registry.encode(IdentityUpserted, { identity }, meta(identity.identityId));

/** `catalogVersion`: specs on shared topics use a high one, so an older catalogue there does not replace theirs. */
export const catalogEvent = (registry: EventRegistry = catalogue, prefix = '', catalogVersion = 1): Envelope =>
  registry.encode(
    CatalogPublished,
    {
      catalogVersion,
      digest: DIGEST,
      systems: [{ systemId: 'orders-db', name: 'Orders', connectorId: 'postgres', ownerId: `${prefix}dave`, environment: 'prod' }],
      entitlements: [
        {
          entitlementId: 'orders-read',
          systemId: 'orders-db',
          name: 'Orders read',
          externalRef: 'orders_read',
          sensitivity: 'high',
          environment: 'prod',
          ownerId: `${prefix}dave`,
          privileges: ['read'],
          maxDuration: 'P30D',
          requestable: true,
        },
        {
          entitlementId: 'orders-write',
          systemId: 'orders-db',
          name: 'Orders write',
          externalRef: 'orders_write',
          sensitivity: 'critical',
          environment: 'prod',
          ownerId: `${prefix}dave`,
          privileges: ['write'],
          maxDuration: 'PT12H',
          requestable: true,
        },
      ],
      accessPackages: [{ accessPackageId: 'orders-analyst', name: 'Orders analyst', ownerId: `${prefix}dave`, entitlementIds: ['orders-read'] }],
    },
    { ...meta('catalog'), correlationid: 'catalog' },
  );

export const directoryOf = (events: readonly Envelope[]): Directory => events.reduce(evolveDirectory, emptyDirectory());

export const submitted = (requestId: string, overrides: Partial<RequestSubmittedData> = {}, registry: EventRegistry = catalogue, prefix = ''): Envelope => {
  const data = {
    requestId,
    requesterId: `${prefix}alice`,
    subject: { id: `${prefix}alice`, kind: 'human' as const },
    items: { entitlementIds: ['orders-read'] },
    justification: 'investigate the export bug',
    duration: 'PT8H',
    channel: 'api' as const,
    ...overrides,
  };
  // exactly one of duration / endsAt
  const { duration, ...rest } = data;
  return registry.encode(RequestSubmitted, rest.endsAt !== undefined ? rest : { ...rest, duration }, meta(requestId));
};

export const stage = (id: string, approvers: ApprovalStage['approvers'], quorum = 1, timeout?: string): ApprovalStage => ({
  id,
  approvers,
  quorum,
  ...(timeout !== undefined ? { timeout } : {}),
});

export const decided = (
  requestId: string,
  overrides: Partial<DecisionRecordedData> = {},
  registry: EventRegistry = catalogue,
  time = '2026-01-05T09:00:01.000Z',
): Envelope => {
  const effect = overrides.effect ?? 'require_approval';
  return registry.encode(
    PolicyDecisionRecorded,
    {
      decisionId: `dec-${requestId}`,
      requestId,
      effect,
      ...(effect === 'require_approval' ? { route: { stages: [stage('manager', [{ resolver: 'manager' }])] } } : {}),
      constraints: { maxDuration: 'P1D', breakGlassAllowed: false },
      risk: { score: 10, factors: [] },
      sodConflicts: [],
      reasons: ['because the spec says so'],
      matchedRules: ['spec-rule'],
      recordOnly: [],
      bundleDigest: DIGEST,
      inputSnapshot: {},
      evaluation: { outcome: 'recorded_before_v2' },
      ...overrides,
    },
    { ...meta(requestId, time), actor: { kind: 'service', id: 'policy' } },
  );
};

export const withdrawn = (requestId: string, by = 'alice', registry: EventRegistry = catalogue): Envelope =>
  registry.encode(RequestWithdrawn, { requestId, withdrawnBy: by }, meta(requestId, '2026-01-05T10:00:00.000Z'));

export const deadlineFired = (requestId: string, taskId: string, firedAt: string, registry: EventRegistry = catalogue): Envelope<TimerFiredData> =>
  registry.encode(
    TimerFired,
    { timerId: `approval_deadline:${taskId}`, kind: 'approval_deadline', dueAt: firedAt, firedAt, target: { taskId, requestId } },
    { ...meta(requestId, firedAt), actor: { kind: 'service', id: 'scheduler' } },
  );

export const specContext = (directory: Directory, policy: Partial<ApprovalPolicy> = {}, registry: EventRegistry = catalogue): DecideContext => ({
  directory,
  policy: { ...DEFAULT_APPROVAL_POLICY, ...policy },
  registry,
  eventId: deterministicEventId,
});

/** The decider the service builds, over this directory and the default policy (with `policy` on top). */
export const specDecider = (directory: Directory, policy: Partial<ApprovalPolicy> = {}, registry: EventRegistry = catalogue): ApprovalDecider =>
  makeApprovalDecider(specContext(directory, policy, registry));
