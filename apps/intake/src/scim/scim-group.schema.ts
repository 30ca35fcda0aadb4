import { z } from 'zod';
import { LIMITS } from '@grantline/contracts';
import { GROUP_RESOURCE_TYPE, canonicalResource, isJsonObject } from './scim-attributes.schema';
import { ScimError, describeIssues } from './scim.error';

/** A Group holds at most this many members: every membership change re-publishes each member affected. */
export const MAX_GROUP_MEMBERS = 5_000;

const text = (max: number = LIMITS.shortText) => z.string({ error: (issue) => (issue.input === undefined ? 'required' : 'expected a string') }).max(max);

const MemberSchema = z.object({
  value: text(LIMITS.id).min(1, { message: 'must not be empty' }),
  display: text().optional(),
  type: text(16)
    .refine((type) => type.toLowerCase() === 'user', { message: 'nested groups are not supported: a member is a User' })
    .optional(),
});

/**
 * A Group body (POST, PUT, or the result of a PATCH), after canonicalResource. Its displayName is what member
 * identities list in their comma-separated `groups` attribute, so it may not contain a comma.
 */
export const ScimGroupBodySchema = z.object({
  displayName: text(LIMITS.name)
    .trim()
    .min(1, { message: 'must not be empty' })
    .refine((name) => !name.includes(','), { message: "must not contain a comma: member identities list their groups' names separated by commas" }),
  externalId: text().optional(),
  members: z.array(MemberSchema).max(MAX_GROUP_MEMBERS).optional(),
});

export interface ScimMember {
  readonly value: string;
  readonly display?: string;
}

export interface ScimGroupRecord {
  readonly displayName: string;
  readonly externalId?: string;
  readonly members: readonly ScimMember[];
}

/** Parses a Group body, or throws a 400 SCIM error naming every bad attribute. A member listed twice counts once. */
export function parseGroupBody(body: unknown): ScimGroupRecord {
  if (!isJsonObject(body)) throw ScimError.invalidSyntax('the body is not a JSON object');
  const parsed = ScimGroupBodySchema.safeParse(canonicalResource(GROUP_RESOURCE_TYPE, body, true));
  if (!parsed.success) throw ScimError.invalidValue(describeIssues(parsed.error));
  const { displayName, externalId, members = [] } = parsed.data;
  const unique = new Map<string, ScimMember>();
  for (const member of members) {
    if (!unique.has(member.value)) unique.set(member.value, { value: member.value, ...(member.display === undefined ? {} : { display: member.display }) });
  }
  return { displayName, ...(externalId === undefined ? {} : { externalId }), members: [...unique.values()] };
}
