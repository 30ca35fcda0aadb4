import { z } from 'zod';
import { IdSchema, LIMITS, ShortTextSchema, TimestampSchema } from '../common/primitives.schema';
import { defineEvent } from '../registry/event-definition';
import { TOPICS } from '../topics/topic.catalogue';

/**
 * `<grantId>:rotate`: rotating what one grant used is one side effect however often it is asked for (the
 * provision / deprovision keys are `idempotencyKeyOf`'s, whose operations are frozen in released schemas).
 */
export function rotationKeyOf(grantId: string): string {
  return `${grantId}:rotate`;
}

export const RotationReasonSchema = z.enum(['break_glass_ended']);
export type RotationReason = z.infer<typeof RotationReasonSchema>;

const RotationKeySchema = z
  .string()
  .regex(/^\S+:rotate$/, { message: 'Invalid idempotencyKey: expected <grantId>:rotate' })
  .max(LIMITS.id + 20);
const TargetAccountSchema = z.string().min(1).max(LIMITS.shortText);

/**
 * The grant has ended and what it used (the account's password, a key) is to be rotated, so nothing learnt while
 * the grant was live still works: provisioning asked the grant's connector (`iga.connector.rotation-requested`).
 */
export const GrantRotationRequestedDataSchema = z.strictObject({
  grantId: IdSchema,
  connectorId: IdSchema,
  targetAccount: TargetAccountSchema,
  reason: RotationReasonSchema,
  idempotencyKey: RotationKeySchema,
  attempt: z.number().int().min(1),
  /** The event that ended the grant's use (the connector's deprovisioned result). */
  triggeredBy: IdSchema,
});
export type GrantRotationRequestedData = z.infer<typeof GrantRotationRequestedDataSchema>;

/** The connector rotated what the grant used. No secret and no fingerprint: the new value is told to nobody. */
export const GrantCredentialRotatedDataSchema = z.strictObject({
  grantId: IdSchema,
  connectorId: IdSchema,
  targetAccount: TargetAccountSchema,
  rotatedAt: TimestampSchema,
  /** true when the connector had already rotated it for this grant (a repeated command). */
  alreadyApplied: z.boolean(),
});
export type GrantCredentialRotatedData = z.infer<typeof GrantCredentialRotatedDataSchema>;

/** A rotation attempt failed; `terminal`: no more attempts, a human must rotate by hand (an alert). */
export const GrantRotationFailedDataSchema = z.strictObject({
  grantId: IdSchema,
  connectorId: IdSchema,
  code: z.string().min(1).max(100),
  reason: ShortTextSchema,
  retriable: z.boolean(),
  attempts: z.number().int().min(1),
  terminal: z.boolean(),
  failedAt: TimestampSchema,
});
export type GrantRotationFailedData = z.infer<typeof GrantRotationFailedDataSchema>;

export const GrantRotationRequested = defineEvent('iga.grant.rotation-requested', 1, TOPICS.grants, GrantRotationRequestedDataSchema);
export const GrantCredentialRotated = defineEvent('iga.grant.credential-rotated', 1, TOPICS.grants, GrantCredentialRotatedDataSchema);
export const GrantRotationFailed = defineEvent('iga.grant.rotation-failed', 1, TOPICS.grants, GrantRotationFailedDataSchema);
