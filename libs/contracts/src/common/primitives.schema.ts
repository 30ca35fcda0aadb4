import { z } from 'zod';

/** Upper bounds keep one oversized field from turning into a multi-megabyte Kafka record. */
export const LIMITS = {
  id: 200,
  name: 200,
  shortText: 500,
  justification: 4000,
  comment: 4000,
  url: 2048,
  listItems: 200,
  attributes: 100,
  policyBundleChars: 900_000,
} as const;

/** Ids are opaque but never blank, never padded and never contain whitespace (they become Kafka keys). */
export const IdSchema = z.string().min(1).max(LIMITS.id).regex(/^\S*$/u, { message: 'Invalid id: must not contain whitespace' });

export const NameSchema = z.string().trim().min(1).max(LIMITS.name);
export const ShortTextSchema = z.string().min(1).max(LIMITS.shortText);
export const JustificationSchema = z.string().trim().min(1).max(LIMITS.justification);
export const UrlSchema = z.url({ protocol: /^https?$/ }).max(LIMITS.url);
export const TimestampSchema = z.iso.datetime({ offset: true });
export const Sha256HexSchema = z.string().regex(/^[a-f0-9]{64}$/, { message: 'Invalid digest: expected 64 lowercase hex chars (sha256)' });

/** A list of ids, bounded and without duplicates (a duplicate approver would count twice toward a quorum). */
export function idListSchema(options: { min?: number; max?: number } = {}) {
  return z
    .array(IdSchema)
    .min(options.min ?? 0)
    .max(options.max ?? LIMITS.listItems)
    .refine((ids) => new Set(ids).size === ids.length, { message: 'Invalid list: duplicate ids' });
}

// Only fixed-length units (weeks, days, hours, minutes, seconds): years and months have no fixed length,
// so an expiry computed from them would depend on the calendar and the time zone of whoever replays it.
const DURATION_PATTERN = /^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d{1,3})?)S)?)?$/;

/** Milliseconds in an ISO-8601 duration such as `PT8H` or `P30D`; undefined if it is not a valid positive one. */
export function isoDurationToMillis(duration: string): number | undefined {
  const match = DURATION_PATTERN.exec(duration);
  if (!match || duration.endsWith('T') || duration === 'P') return undefined;
  const [, weeks, days, hours, minutes, seconds] = match;
  const ms =
    Number(weeks ?? 0) * 604_800_000 +
    Number(days ?? 0) * 86_400_000 +
    Number(hours ?? 0) * 3_600_000 +
    Number(minutes ?? 0) * 60_000 +
    Math.round(Number(seconds ?? 0) * 1000);
  return ms > 0 && Number.isSafeInteger(ms) ? ms : undefined;
}

export const IsoDurationSchema = z
  .string()
  .max(64)
  .refine((value) => isoDurationToMillis(value) !== undefined, {
    message: 'Invalid ISO-8601 duration: expected a positive duration in W/D/H/M/S units, e.g. PT8H or P30D',
  });

export const IdentityKindSchema = z.enum(['human', 'service_account', 'api_key', 'workload', 'ci_pipeline', 'ai_agent']);
export type IdentityKind = z.infer<typeof IdentityKindSchema>;

export const SubjectRefSchema = z.strictObject({ id: IdSchema, kind: IdentityKindSchema });
export type SubjectRef = z.infer<typeof SubjectRefSchema>;

export const TicketRefSchema = z.strictObject({
  system: z.enum(['servicenow', 'jira', 'other']),
  id: IdSchema,
  url: UrlSchema.optional(),
});
export type TicketRef = z.infer<typeof TicketRefSchema>;

export const SensitivitySchema = z.enum(['low', 'medium', 'high', 'critical']);
export const EnvironmentSchema = z.enum(['prod', 'nonprod']);
export const PrivilegeSchema = z.enum(['read', 'write', 'admin']);

/** Free-form attributes: scalar values only, so nothing nested can hide a payload. */
export const AttributesSchema = z
  .record(z.string().min(1).max(100), z.union([z.string().max(LIMITS.shortText), z.number(), z.boolean(), z.null()]))
  .refine((attributes) => Object.keys(attributes).length <= LIMITS.attributes, {
    message: `Too big: expected at most ${LIMITS.attributes} attributes`,
  });
