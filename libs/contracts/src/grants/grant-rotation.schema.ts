import { z } from 'zod';
import { IdSchema, LIMITS, ShortTextSchema, TimestampSchema, idListSchema } from '../common/primitives.schema';
import { withoutSecrets } from '../common/no-secrets.schema';
import { CredentialTypeSchema } from '../policy/decision-recorded.schema';
import { defineEvent } from '../registry/event-definition';
import { TOPICS } from '../topics/topic.catalogue';

/**
 * `<grantId>:rotate`: rotating what one grant used is one side effect however often it is asked for (the
 * provision / deprovision keys are `idempotencyKeyOf`'s, whose operations are frozen in released schemas).
 */
export function rotationKeyOf(grantId: string, rotation = 1): string {
  // The first rotation keeps the v1 key, so a v1 command upcasts to rotation 1 unchanged.
  return rotation === 1 ? `${grantId}:rotate` : `${rotatedCredentialIdOf(grantId, rotation)}:rotate`;
}

/**
 * The id of the credential that rotation `rotation` of a grant issues (the grant's first credential's id is the grant
 * id): deterministic, so a redelivered rotation names the same credential and nothing is issued twice.
 */
export function rotatedCredentialIdOf(grantId: string, rotation: number): string {
  return `${grantId}.r${rotation}`;
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

/**
 * v2: why a rotation is asked for, now also `owner_changed` (a machine identity's owner of record changed: whoever
 * owned it may hold its secret, so its credentials are replaced for the new holders).
 */
export const RotationReasonV2Schema = z.enum(['break_glass_ended', 'owner_changed']);
export type RotationReasonV2 = z.infer<typeof RotationReasonV2Schema>;

const RotationNumberSchema = z.number().int().min(1);
const rotationKeyMatches = (data: { grantId: string; idempotencyKey: string; rotation: number }): boolean =>
  data.idempotencyKey === rotationKeyOf(data.grantId, data.rotation);
const ROTATION_KEY_MISMATCH = { message: 'Invalid idempotencyKey: expected rotationKeyOf(grantId, rotation)', path: ['idempotencyKey'] };

/**
 * A replacement credential: the connector issues `credentialId` for the same grant, ending at `expiresAt` (the grant's
 * credential's expiry, never beyond the grant), sealed for `holders` only; the credential it replaces is revoked.
 */
export const CredentialReplacementSchema = z.strictObject({
  credentialId: IdSchema,
  type: CredentialTypeSchema.exclude(['none']),
  /** Identity ids that may retrieve the new secret once (a machine identity: its new owner of record and itself). */
  holders: idListSchema({ min: 0, max: 20 }),
  expiresAt: TimestampSchema,
});
export type CredentialReplacement = z.infer<typeof CredentialReplacementSchema>;

/**
 * v2: a grant may be rotated more than once (each owner change replaces its credential again): `rotation` numbers
 * them and keys the side effect (`rotationKeyOf(grantId, rotation)`); `credential` asks for a replacement.
 */
export const GrantRotationRequestedV2DataSchema = z
  .strictObject({
    grantId: IdSchema,
    connectorId: IdSchema,
    targetAccount: TargetAccountSchema,
    reason: RotationReasonV2Schema,
    rotation: RotationNumberSchema,
    idempotencyKey: z
      .string()
      .min(3)
      .max(LIMITS.id + 20),
    attempt: z.number().int().min(1),
    /** The event that caused the rotation (the connector's deprovisioned result, the owner change). */
    triggeredBy: IdSchema,
    credential: CredentialReplacementSchema.optional(),
  })
  .refine(rotationKeyMatches, ROTATION_KEY_MISMATCH);
export type GrantRotationRequestedV2Data = z.infer<typeof GrantRotationRequestedV2DataSchema>;

/** v1 → v2: a v1 rotation was the grant's only one, after a break-glass use, and replaced no credential. */
export function upcastGrantRotationRequestedV1ToV2(previous: unknown): GrantRotationRequestedV2Data {
  return { ...GrantRotationRequestedDataSchema.parse(previous), rotation: 1 };
}

/** The credential a rotation issued: a reference and a fingerprint, never the secret. */
export const RotatedCredentialRefSchema = z.strictObject({
  credentialId: IdSchema,
  type: CredentialTypeSchema.exclude(['none']),
  credentialRef: z.string().min(1).max(LIMITS.shortText),
  fingerprint: z.string().regex(/^(sha256|sha1|md5):[A-Za-z0-9+/=:_-]{8,128}$/),
  expiresAt: TimestampSchema,
});

/** v2: which rotation it was and, when a credential was replaced, the new one's reference and fingerprint. */
export const GrantCredentialRotatedV2DataSchema = withoutSecrets(
  z.strictObject({
    grantId: IdSchema,
    connectorId: IdSchema,
    targetAccount: TargetAccountSchema,
    rotation: RotationNumberSchema,
    rotatedAt: TimestampSchema,
    alreadyApplied: z.boolean(),
    credential: RotatedCredentialRefSchema.optional(),
  }),
);
export type GrantCredentialRotatedV2Data = z.infer<typeof GrantCredentialRotatedV2DataSchema>;

export function upcastGrantCredentialRotatedV1ToV2(previous: unknown): GrantCredentialRotatedV2Data {
  return { ...GrantCredentialRotatedDataSchema.parse(previous), rotation: 1 };
}

export const GrantRotationRequestedV1 = defineEvent('iga.grant.rotation-requested', 1, TOPICS.grants, GrantRotationRequestedDataSchema);
export const GrantRotationRequestedV2 = defineEvent('iga.grant.rotation-requested', 2, TOPICS.grants, GrantRotationRequestedV2DataSchema);
/** The current version: what provisioning writes. */
export const GrantRotationRequested = GrantRotationRequestedV2;
export const GrantCredentialRotatedV1 = defineEvent('iga.grant.credential-rotated', 1, TOPICS.grants, GrantCredentialRotatedDataSchema);
export const GrantCredentialRotatedV2 = defineEvent('iga.grant.credential-rotated', 2, TOPICS.grants, GrantCredentialRotatedV2DataSchema);
export const GrantCredentialRotated = GrantCredentialRotatedV2;
export const GrantRotationFailed = defineEvent('iga.grant.rotation-failed', 1, TOPICS.grants, GrantRotationFailedDataSchema);
