import type { JWTPayload } from 'jose';

/**
 * Grantline's own roles. A token never names them directly unless the deployment says so: the identity provider's
 * role or group names are mapped onto these in configuration (AUTH_ROLE_MAP), so renaming a group at the IdP is a
 * configuration change, and a group the mapping does not name grants nothing.
 *
 * `member` is not mapped: every authenticated person is a member (an employee acting for themselves). Workloads
 * (client-credentials tokens: an HR feed, an on-call system, a console backend) hold only the roles mapped to them.
 */
export const GRANTLINE_ROLES = [
  'member',
  'security',
  'auditor',
  'identity-source',
  'oncall-source',
  'catalog-admin',
  'policy-author',
  'operator',
  'admin',
] as const;
export type GrantlineRole = (typeof GRANTLINE_ROLES)[number];

/** A person (an OIDC user token) or a workload (an OIDC client-credentials token). */
export type PrincipalKind = 'person' | 'workload';

export interface RoleMapping {
  /** Where the roles are in the token: a claim name, or a dotted path (`realm_access.roles`). */
  readonly claim: string;
  /** IdP role or group name → Grantline role. Grantline's own role names always map to themselves. */
  readonly map: ReadonlyMap<string, GrantlineRole>;
}

export const DEFAULT_ROLES_CLAIM = 'roles';
export const DEFAULT_ROLE_MAPPING: RoleMapping = { claim: DEFAULT_ROLES_CLAIM, map: new Map() };

const ROLE_SET: ReadonlySet<string> = new Set(GRANTLINE_ROLES);
export const isGrantlineRole = (value: string): value is GrantlineRole => ROLE_SET.has(value);

export type RoleMapParse = { readonly ok: true; readonly map: ReadonlyMap<string, GrantlineRole> } | { readonly ok: false; readonly message: string };

/**
 * `AUTH_ROLE_MAP`: comma-separated `idp-name=grantline-role` pairs, e.g. `grantline-sec=security,hr-sync=identity-source`.
 * `member` cannot be mapped (it is every person's), so a workload cannot be made to act as a person.
 */
export function parseRoleMap(raw: string | undefined): RoleMapParse {
  const map = new Map<string, GrantlineRole>();
  if (raw === undefined || raw.trim() === '') return { ok: true, map };
  for (const pair of raw
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)) {
    const match = /^([^=\s]+)\s*=\s*([a-z-]+)$/.exec(pair);
    if (!match) return { ok: false, message: `"${pair}" is not idp-name=grantline-role` };
    const [, external = '', role = ''] = match;
    if (!isGrantlineRole(role) || role === 'member') {
      return { ok: false, message: `"${role}" is not a role that can be mapped (one of ${GRANTLINE_ROLES.filter((r) => r !== 'member').join(', ')})` };
    }
    map.set(external, role);
  }
  return { ok: true, map };
}

function claimAt(payload: JWTPayload, path: string): unknown {
  let value: unknown = payload;
  for (const segment of path.split('.')) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
    value = (value as Record<string, unknown>)[segment];
  }
  return value;
}

/** Client-credentials tokens: `gty` (Auth0), or the client id claim equal to the subject (Okta `cid`, Keycloak `client_id`, `azp`). */
export function principalKindOf(payload: JWTPayload): PrincipalKind {
  if (payload['gty'] === 'client-credentials') return 'workload';
  const subject = payload.sub;
  for (const claim of ['client_id', 'cid', 'azp']) {
    if (typeof payload[claim] === 'string' && payload[claim] === subject) return 'workload';
  }
  return 'person';
}

/** The Grantline roles a verified token carries: mapped from its roles claim, plus `member` for a person. */
export function rolesOf(payload: JWTPayload, kind: PrincipalKind, mapping: RoleMapping = DEFAULT_ROLE_MAPPING): ReadonlySet<GrantlineRole> {
  const raw = claimAt(payload, mapping.claim);
  const names = Array.isArray(raw) ? raw.filter((item): item is string => typeof item === 'string') : typeof raw === 'string' ? raw.split(/[\s,]+/) : [];
  const roles = new Set<GrantlineRole>();
  for (const name of names) {
    const role = mapping.map.get(name) ?? (isGrantlineRole(name) ? name : undefined);
    if (role !== undefined && role !== 'member') roles.add(role);
  }
  if (kind === 'person') roles.add('member');
  return roles;
}
