import { z } from 'zod';
import { LIMITS } from '@grantline/contracts';
import { SCIM_SCHEMAS, USER_RESOURCE_TYPE, canonicalResource, isJsonObject, keyOf } from './scim-attributes.schema';
import type { JsonObject } from './scim-attributes.schema';
import { ScimError, describeIssues } from './scim.error';

/**
 * A User body (POST, PUT, or the result of a PATCH), validated after canonicalResource has put every attribute
 * under its canonical name and dropped unknown and read-only ones. Types are checked strictly: a wrong type is a
 * 400 invalidValue naming the attribute. Sizes are bounded so one body cannot become a huge record or event.
 */

const text = (max: number = LIMITS.shortText) => z.string({ error: (issue) => (issue.input === undefined ? 'required' : 'expected a string') }).max(max);

const MultiValueSchema = z.object({
  value: text(320),
  display: text().optional(),
  type: text(64).optional(),
  primary: z.boolean().optional(),
});

/** What becomes the identity id: the contract's IdSchema (no whitespace, at most 200 characters). */
const UserNameSchema = text(LIMITS.id)
  .min(1, { message: 'must not be empty' })
  .regex(/^\S+$/u, { message: 'must not contain whitespace: it becomes the Grantline identity id' });

const EnterpriseSchema = z.object({
  employeeNumber: text().optional(),
  costCenter: text().optional(),
  organization: text().optional(),
  division: text().optional(),
  department: text().optional(),
  manager: z.object({ value: UserNameSchema.optional() }).optional(),
});

export const ScimUserBodySchema = z.object({
  userName: UserNameSchema,
  externalId: text().optional(),
  name: z
    .object({
      formatted: text().optional(),
      familyName: text().optional(),
      givenName: text().optional(),
      middleName: text().optional(),
      honorificPrefix: text().optional(),
      honorificSuffix: text().optional(),
    })
    .optional(),
  displayName: text(LIMITS.name).optional(),
  nickName: text().optional(),
  profileUrl: text(LIMITS.url).optional(),
  title: text().optional(),
  userType: text(100).optional(),
  preferredLanguage: text(100).optional(),
  locale: text(100).optional(),
  timezone: text(100).optional(),
  active: z.boolean({ error: 'expected a boolean' }).optional(),
  emails: z.array(MultiValueSchema).max(20).optional(),
  phoneNumbers: z.array(MultiValueSchema).max(20).optional(),
  [SCIM_SCHEMAS.enterpriseUser]: EnterpriseSchema.optional(),
});
type ScimUserBody = z.infer<typeof ScimUserBodySchema>;

export type ScimEnterpriseRecord = z.infer<typeof EnterpriseSchema>;

/** A User as stored: the enterprise extension under `enterprise` (a database key may not contain dots) and `active` explicit. */
export type ScimUserRecord = Omit<ScimUserBody, typeof SCIM_SCHEMAS.enterpriseUser | 'active'> & {
  readonly active: boolean;
  readonly enterprise?: ScimEnterpriseRecord;
};

/**
 * What IdPs send that the schema would otherwise refuse, read as they mean it:
 * - Azure AD sends `active` as the strings "True"/"False" in PATCH;
 * - Azure AD sends the manager as a bare id (`"manager": "2819c223"`), and `""` to clear it;
 * - a manager object without a value (`{"value": ""}` or `{}`) is no manager.
 */
function normaliseQuirks(body: JsonObject): JsonObject {
  const result: JsonObject = { ...body };
  const active = result['active'];
  if (typeof active === 'string' && /^(true|false)$/i.test(active)) result['active'] = active.toLowerCase() === 'true';
  const extensionKey = keyOf(result, SCIM_SCHEMAS.enterpriseUser);
  const extension = extensionKey === undefined ? undefined : result[extensionKey];
  if (extensionKey !== undefined && isJsonObject(extension)) {
    const next: JsonObject = { ...extension };
    const manager = next['manager'];
    const value = typeof manager === 'string' ? manager : isJsonObject(manager) ? manager['value'] : undefined;
    if (typeof manager === 'string') next['manager'] = { value: manager };
    if (manager !== undefined && (value === undefined || value === '' || value === null)) delete next['manager'];
    if (Object.keys(next).length === 0) delete result[extensionKey];
    else result[extensionKey] = next;
  }
  return result;
}

export function userRecordOf(body: ScimUserBody): ScimUserRecord {
  const { [SCIM_SCHEMAS.enterpriseUser]: enterprise, active, ...core } = body;
  return { ...core, active: active ?? true, ...(enterprise === undefined ? {} : { enterprise }) };
}

/** Parses a User body, or throws a 400 SCIM error naming every bad attribute. */
export function parseUserBody(body: unknown): ScimUserRecord {
  if (!isJsonObject(body)) throw ScimError.invalidSyntax('the body is not a JSON object');
  const parsed = ScimUserBodySchema.safeParse(normaliseQuirks(canonicalResource(USER_RESOURCE_TYPE, body, true)));
  if (!parsed.success) throw ScimError.invalidValue(describeIssues(parsed.error));
  return userRecordOf(parsed.data);
}
