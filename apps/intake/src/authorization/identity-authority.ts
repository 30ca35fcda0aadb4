import type { Identity } from '@grantline/contracts';
import type { GrantlineRole } from '@grantline/http-edge';

/**
 * Who is the authority for each identity fact. The facts policy decides on are the control: a fact comes only from
 * the source that owns it, never from the person it describes. Every attribute not named here belongs to the
 * identity source (HR / the IdP), like the manager, the department, the groups and the status.
 */
export const ATTRIBUTE_AUTHORITY: Readonly<Record<string, GrantlineRole>> = {
  onCall: 'oncall-source',
};
export const DEFAULT_ATTRIBUTE_AUTHORITY: GrantlineRole = 'identity-source';

export const authorityOf = (attribute: string): GrantlineRole => ATTRIBUTE_AUTHORITY[attribute] ?? DEFAULT_ATTRIBUTE_AUTHORITY;

/** The attributes of `attributes` the holder of `roles` may not set, with the role that may. */
export function attributesNotOwnedBy(
  attributes: Readonly<Record<string, unknown>>,
  roles: ReadonlySet<GrantlineRole>,
): { attribute: string; authority: GrantlineRole }[] {
  return Object.keys(attributes)
    .filter((attribute) => !roles.has(authorityOf(attribute)))
    .map((attribute) => ({ attribute, authority: authorityOf(attribute) }));
}

/**
 * A source's new record of an identity, keeping the attributes another source owns from the previous record: the
 * HR feed re-sending a person must not erase that they are on call, and the on-call system must not be able to
 * change their manager.
 */
export function keepOtherSourcesAttributes(previous: Identity | undefined, next: Identity, writer: GrantlineRole): Identity {
  const kept = Object.fromEntries(Object.entries(previous?.attributes ?? {}).filter(([attribute]) => authorityOf(attribute) !== writer));
  const own = Object.fromEntries(Object.entries(next.attributes).filter(([attribute]) => authorityOf(attribute) === writer));
  return { ...next, attributes: { ...kept, ...own } };
}

/** One source's change to some attributes of a recorded identity; `null` removes an attribute. */
export function withAttributes(previous: Identity, changes: Readonly<Record<string, string | number | boolean | null>>): Identity {
  const attributes: Record<string, string | number | boolean | null> = { ...previous.attributes };
  for (const [attribute, value] of Object.entries(changes)) {
    if (value === null) delete attributes[attribute];
    else attributes[attribute] = value;
  }
  return { ...previous, attributes };
}
