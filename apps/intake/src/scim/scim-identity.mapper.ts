import { IdentityUpsertedDataSchema, LIMITS } from '@grantline/contracts';
import type { Identity, IdentityOffboardedData, IdentityUpsertedData } from '@grantline/contracts';
import { keepOtherSourcesAttributes } from '../authorization/identity-authority';
import { SCIM_SCHEMAS } from './scim-attributes.schema';
import type { ScimUserRecord } from './scim-user.schema';
import { ScimError } from './scim.error';

/** `sourceSystem` of every identity recorded over SCIM. */
export const SCIM_SOURCE_SYSTEM = 'scim';

const blankToUndefined = (value: string | undefined): string | undefined => {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === '' ? undefined : trimmed;
};

/** The name shown for a person: displayName, else the formatted name, else given and family name, else the userName. */
export function displayNameOf(user: ScimUserRecord): string {
  const given = [user.name?.givenName, user.name?.familyName]
    .map(blankToUndefined)
    .filter((part) => part !== undefined)
    .join(' ');
  return blankToUndefined(user.displayName) ?? blankToUndefined(user.name?.formatted) ?? blankToUndefined(given) ?? user.userName;
}

/** The primary email (RFC 7643 §2.4), else the work one, else the first. */
export function emailOf(user: ScimUserRecord): string | undefined {
  const emails = user.emails ?? [];
  const chosen = emails.find((email) => email.primary === true) ?? emails.find((email) => email.type?.toLowerCase() === 'work') ?? emails[0];
  return blankToUndefined(chosen?.value);
}

/** The approval service reads `groups` as comma-separated group names (apps/approval/src/domain/directory.ts). */
export const groupsAttributeOf = (groupNames: readonly string[]): string | undefined => {
  const names = [...new Set(groupNames.map((name) => name.trim()).filter(Boolean))].sort((a, b) => a.localeCompare(b));
  return names.length === 0 ? undefined : names.join(',');
};

/** Where a contract field came from in the SCIM User, so a refusal names the attribute the client sent. */
const SCIM_ATTRIBUTE_OF: Readonly<Record<string, string>> = {
  'identity.displayName': 'displayName',
  'identity.email': 'emails',
  'identity.managerId': `${SCIM_SCHEMAS.enterpriseUser}:manager.value`,
  'identity.team': `${SCIM_SCHEMAS.enterpriseUser}:department`,
  'identity.identityId': 'userName',
  'identity.attributes.groups': 'groups',
  'identity.attributes.employment': 'userType',
};

export interface UpsertInput {
  /** The SCIM id: the userName the User was created with, and the Grantline identity id. */
  readonly id: string;
  readonly user: ScimUserRecord;
  /** displayNames of the Groups the User is a member of. */
  readonly groupNames: readonly string[];
  /** The identity as last recorded by any source (IdentityDirectory.get), for the attributes other sources own. */
  readonly previous?: Identity;
  readonly sourceVersion: number;
}

/**
 * The identity an active SCIM User records: a person whose manager is the enterprise extension's manager (their
 * SCIM id, which is their identity id) and whose team is the department. Attributes owned by another source, such
 * as `onCall` from the on-call system, are kept from the previous record: the IdP re-sending a person must not
 * erase that they are on call. Throws a 400 naming the SCIM attribute when the record would break the contract.
 */
export function identityUpsertOf(input: UpsertInput): IdentityUpsertedData {
  const { id, user, previous } = input;
  if (previous !== undefined && previous.kind !== 'human') {
    // Turning a machine identity into a person would drop its owner of record: that is a governed transfer, not a sync.
    throw ScimError.uniqueness(`${id} is a non-human identity (${previous.kind}) in Grantline; a person cannot take its id`);
  }
  const managerId = blankToUndefined(user.enterprise?.manager?.value);
  // A person who manages themselves would approve their own requests wherever the manager is the approver.
  if (managerId === id) throw ScimError.invalidValue(`${SCIM_SCHEMAS.enterpriseUser}:manager.value: a user cannot be their own manager`);
  const email = emailOf(user);
  const team = blankToUndefined(user.enterprise?.department);
  const groups = groupsAttributeOf(input.groupNames);
  const employment = blankToUndefined(user.userType)?.toLowerCase();
  const identity: Identity = {
    kind: 'human',
    identityId: id,
    displayName: displayNameOf(user).slice(0, LIMITS.name),
    status: 'active',
    sourceSystem: SCIM_SOURCE_SYSTEM,
    ...(email === undefined ? {} : { email }),
    ...(managerId === undefined ? {} : { managerId }),
    ...(team === undefined ? {} : { team }),
    attributes: { ...(groups === undefined ? {} : { groups }), ...(employment === undefined ? {} : { employment }) },
  };
  const data = { identity: keepOtherSourcesAttributes(previous, identity, 'identity-source'), sourceVersion: input.sourceVersion };
  const parsed = IdentityUpsertedDataSchema.safeParse(data);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const field = issue.path.map(String).join('.');
      return `${SCIM_ATTRIBUTE_OF[field] ?? field}: ${issue.message}`;
    });
    throw ScimError.invalidValue([...new Set(problems)].join('; '));
  }
  return parsed.data;
}

/** A leaver (active false, or deleted): every grant of theirs is revoked downstream, the NHIs they own need an owner. */
export function leaverOf(id: string, effectiveAt: Date, ownedIdentityIds: readonly string[]): IdentityOffboardedData {
  return { identityId: id, kind: 'human', effectiveAt: effectiveAt.toISOString(), reason: 'leaver', ownedIdentityIds: [...ownedIdentityIds] };
}
