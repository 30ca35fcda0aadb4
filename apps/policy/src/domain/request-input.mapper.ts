import type { Entitlement as CatalogEntitlement, Envelope, Identity, RequestSubmittedData } from '@grantline/contracts';
import type { Entitlement, Grant, PolicyInput, Privilege } from '@grantline/policy-engine';
import { openBreakGlassReviewsOf } from './break-glass-reviews';
import { grantsOf } from './policy.state';
import type { PolicyState } from './policy.state';

/** The request could be mapped: the engine decides. */
export interface MappedInput {
  readonly kind: 'input';
  readonly input: PolicyInput;
}

/**
 * The request names something the policy service cannot resolve (unknown entitlement, unknown or
 * offboarded subject, an end before the start). It is refused at the edge, never evaluated with guesses.
 */
export interface RefusedInput {
  readonly kind: 'refused';
  readonly reasons: readonly string[];
  /**
   * What the request names that the state does not hold yet (`identity:<id>`, `entitlement:<id>`,
   * `access-package:<id>`): it may still arrive on its own topic. Empty when nothing is missing.
   */
  readonly unresolved: readonly string[];
  /**
   * True when a reason stands whatever arrives later (an offboarded or suspended subject, a subject of
   * another kind, a non-requestable entitlement, an end before the start): waiting cannot change the answer.
   */
  readonly final: boolean;
  /** What was known, so the refusal is as explainable as an engine decision. */
  readonly snapshot: Readonly<Record<string, unknown>>;
}

export type InputMapping = MappedInput | RefusedInput;

const PRIVILEGE_RANK: Readonly<Record<Privilege, number>> = { read: 0, write: 1, admin: 2 };

/** The engine reasons about one privilege per entitlement: the strongest it confers. */
export const strongestPrivilege = (privileges: readonly Privilege[]): Privilege =>
  privileges.reduce<Privilege>((best, p) => (PRIVILEGE_RANK[p] > PRIVILEGE_RANK[best] ? p : best), 'read');

export const toEngineEntitlement = (entitlement: CatalogEntitlement): Entitlement => ({
  id: entitlement.entitlementId,
  system: entitlement.systemId,
  sensitivity: entitlement.sensitivity,
  environment: entitlement.environment,
  owner: entitlement.ownerId,
  privilege: strongestPrivilege(entitlement.privileges),
  maxDuration: entitlement.maxDuration,
  attributes: { name: entitlement.name, privileges: [...entitlement.privileges], externalRef: entitlement.externalRef },
});

/** Reserved engine attribute: the list form of a comma-separated `scope` identity attribute. */
export const SCOPES_ATTRIBUTE = 'scopes';

/**
 * Identity attributes are scalars in the contracts, so an identity declares its scope as a comma-separated
 * string (`scope: "deploy-secrets-prod, orders-db"`). Rules need a list for `x in subject.attributes.scopes`,
 * so the list is derived here, trimmed and without blanks. An identity's own `scopes` attribute is not
 * passed on: the name is reserved for the derived list.
 */
export const withDerivedScopes = (attributes: Readonly<Record<string, unknown>>): Record<string, unknown> => {
  const { [SCOPES_ATTRIBUTE]: _reserved, ...rest } = attributes;
  const scope = attributes['scope'];
  if (typeof scope !== 'string') return rest;
  return {
    ...rest,
    [SCOPES_ATTRIBUTE]: scope
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item.length > 0),
  };
};

/**
 * A machine identity whose owner of record is no longer active is frozen (OWASP NHI1: no ownerless NHI gets access):
 * no new grant until someone accepts ownership through the transfer case opened when the owner left (`owner-changed`
 * then names an active owner). An owner the directory has not seen is not a reason: policy waits for facts, it does not
 * guess them.
 */
export const frozenReason = (subject: Identity, state: PolicyState): string | undefined => {
  if (subject.kind === 'human') return undefined;
  const owner = state.identities.get(subject.ownerId);
  if (owner === undefined || owner.status === 'active') return undefined;
  return `machine identity "${subject.identityId}" is frozen: its owner "${subject.ownerId}" is ${owner.status} and nobody has accepted ownership yet`;
};

/** Whole seconds between the request and its absolute end, as an ISO duration; undefined if not after. */
const durationUntil = (from: string, endsAt: string): string | undefined => {
  const seconds = Math.floor((Date.parse(endsAt) - Date.parse(from)) / 1000);
  return seconds > 0 ? `PT${seconds}S` : undefined;
};

/**
 * Maps a request (latest version, already upcast) and the state known when it arrived onto the
 * engine's input. Time is the request event's own time, so replaying the log yields the same input.
 */
export const mapRequestToInput = (event: Envelope<RequestSubmittedData>, state: PolicyState): InputMapping => {
  const request = event.data;
  const reasons: string[] = [];
  const unresolved: string[] = [];
  let final = false;
  const catalog = state.catalog;

  let entitlementIds: readonly string[] = [];
  let packageId: string | null = null;
  if ('accessPackageId' in request.items) {
    packageId = request.items.accessPackageId;
    const pkg = catalog?.accessPackages.get(packageId);
    if (pkg) entitlementIds = pkg.entitlementIds;
    else {
      reasons.push(`unknown access package "${packageId}": it is not in the published catalogue`);
      unresolved.push(`access-package:${packageId}`);
    }
  } else {
    entitlementIds = request.items.entitlementIds;
  }

  const entitlements: Entitlement[] = [];
  for (const id of entitlementIds) {
    const entitlement = catalog?.entitlements.get(id);
    if (!entitlement) {
      reasons.push(`unknown entitlement "${id}": it is not in the published catalogue`);
      unresolved.push(`entitlement:${id}`);
    } else if (!entitlement.requestable) {
      reasons.push(`entitlement "${id}" is not requestable`);
      final = true;
    } else entitlements.push(toEngineEntitlement(entitlement));
  }

  const subject = state.identities.get(request.subject.id);
  if (!subject) {
    reasons.push(`unknown subject "${request.subject.id}": no identity record`);
    unresolved.push(`identity:${request.subject.id}`);
  } else if (subject.status !== 'active') {
    reasons.push(`subject "${subject.identityId}" is ${subject.status}`);
    final = true;
  } else if (subject.kind !== request.subject.kind) {
    reasons.push(`subject "${subject.identityId}" is a ${subject.kind}, but the request says ${request.subject.kind}`);
    final = true;
  } else {
    const frozen = frozenReason(subject, state);
    if (frozen !== undefined) {
      reasons.push(frozen);
      final = true;
    }
  }

  let duration: string | null = null;
  if (request.duration !== undefined) duration = request.duration;
  else if (request.endsAt !== undefined) {
    duration = durationUntil(event.time, request.endsAt) ?? null;
    if (duration === null) {
      reasons.push(`the requested end ${request.endsAt} is not after the request time ${event.time}`);
      final = true;
    }
  }

  if (reasons.length > 0 || !subject) {
    return {
      kind: 'refused',
      reasons,
      unresolved,
      final,
      snapshot: { request: { ...request }, now: event.time, knownEntitlements: entitlements.map((e) => e.id), catalogVersion: catalog?.version ?? null },
    };
  }

  const grants: Grant[] = [];
  const now = Date.parse(event.time);
  for (const held of grantsOf(state, subject.identityId)) {
    const entitlement = catalog?.entitlements.get(held.entitlementId);
    // A grant already ended cannot conflict; one on an entitlement gone from the catalogue cannot be described.
    if (!entitlement || Date.parse(held.expiresAt) <= now) continue;
    grants.push({
      entitlementId: held.entitlementId,
      system: entitlement.systemId,
      privilege: strongestPrivilege(entitlement.privileges),
      environment: entitlement.environment,
      status: held.status,
      expiresAt: held.expiresAt,
    });
  }

  const requester = state.identities.get(request.requesterId);
  const openReviews = openBreakGlassReviewsOf(state.breakGlassReviews, subject.identityId);
  const relation: PolicyInput['requester']['relation'] =
    request.requesterId === subject.identityId
      ? 'self'
      : subject.kind === 'human'
        ? subject.managerId === request.requesterId
          ? 'manager'
          : 'none'
        : subject.ownerId === request.requesterId
          ? 'nhi_owner'
          : 'none';
  const input: PolicyInput = {
    request: {
      id: request.requestId,
      package: packageId,
      duration,
      justification: request.justification,
      ticket: request.ticket?.id ?? request.emergency?.incidentRef.id ?? null,
      emergency: request.emergency?.breakGlass === true,
      source: request.channel,
    },
    subject: {
      id: subject.identityId,
      kind: subject.kind,
      team: subject.team ?? null,
      manager: subject.kind === 'human' ? (subject.managerId ?? null) : null,
      ownerOfRecord: subject.kind === 'human' ? null : subject.ownerId,
      attributes: withDerivedScopes(subject.attributes),
      // Only when there is one: every other input (and so every recorded snapshot) stays as it was.
      ...(openReviews.length > 0 ? { openBreakGlassReviews: openReviews } : {}),
    },
    requester: {
      id: request.requesterId,
      kind: requester?.kind ?? 'human',
      attributes: requester ? { ...requester.attributes, ...(requester.team ? { team: requester.team } : {}) } : {},
      relation,
    },
    entitlements,
    grants,
    now: event.time,
  };
  return { kind: 'input', input };
};
