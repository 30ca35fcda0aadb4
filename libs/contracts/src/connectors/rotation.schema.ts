import { z } from 'zod';
import { IdSchema, LIMITS, ShortTextSchema, TimestampSchema } from '../common/primitives.schema';
import { withoutSecrets } from '../common/no-secrets.schema';
import {
  CredentialReplacementSchema,
  RotatedCredentialRefSchema,
  RotationReasonSchema,
  RotationReasonV2Schema,
  rotationKeyOf,
} from '../grants/grant-rotation.schema';
import { defineEvent } from '../registry/event-definition';
import { CONNECTOR_ID_PLACEHOLDER, connectorCommandsTopic, connectorResultsTopic } from '../topics/topic.catalogue';
import { ConnectorErrorClassSchema } from './connector.schema';

const ConnectorIdSchema = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,99}$/, { message: 'Invalid connector id' });
const RotationKeySchema = z
  .string()
  .min(3)
  .max(LIMITS.id + 20);
const keyMatches = (command: { grantId: string; idempotencyKey: string }): boolean => command.idempotencyKey === rotationKeyOf(command.grantId);
const KEY_MISMATCH = { message: 'Invalid idempotencyKey: expected <grantId>:rotate', path: ['idempotencyKey'] };

/**
 * Provisioning asks a connector to rotate what a grant used once the grant has ended (for PostgreSQL: reset the
 * login's password to a value nobody is told). Answered by `iga.connector.credential-rotated` or
 * `iga.connector.rotation-failed`; the frozen operation-failed schema knows only provision and deprovision.
 */
export const RotationRequestedDataSchema = z
  .strictObject({
    commandId: IdSchema,
    connectorId: ConnectorIdSchema,
    grantId: IdSchema,
    /** The account whose credential is rotated (login, principal). */
    targetAccount: z.string().min(1).max(LIMITS.shortText),
    reason: RotationReasonSchema,
    idempotencyKey: RotationKeySchema,
  })
  .refine(keyMatches, KEY_MISMATCH);
export type RotationRequestedData = z.infer<typeof RotationRequestedDataSchema>;

export const CredentialRotatedDataSchema = z
  .strictObject({
    commandId: IdSchema,
    connectorId: ConnectorIdSchema,
    grantId: IdSchema,
    idempotencyKey: RotationKeySchema,
    completedAt: TimestampSchema,
    /** true when the rotation for this grant had been done already (a repeated command). */
    alreadyApplied: z.boolean(),
  })
  .refine(keyMatches, KEY_MISMATCH);
export type CredentialRotatedData = z.infer<typeof CredentialRotatedDataSchema>;

export const RotationFailedDataSchema = z
  .strictObject({
    commandId: IdSchema,
    connectorId: ConnectorIdSchema,
    grantId: IdSchema,
    idempotencyKey: RotationKeySchema,
    errorClass: ConnectorErrorClassSchema,
    code: z.string().min(1).max(100),
    message: ShortTextSchema,
    failedAt: TimestampSchema,
  })
  .refine(keyMatches, KEY_MISMATCH);
export type RotationFailedData = z.infer<typeof RotationFailedDataSchema>;

const RotationNumberSchema = z.number().int().min(1);
const rotationKeyMatches = (command: { grantId: string; idempotencyKey: string; rotation: number }): boolean =>
  command.idempotencyKey === rotationKeyOf(command.grantId, command.rotation);
const ROTATION_KEY_MISMATCH = { message: 'Invalid idempotencyKey: expected rotationKeyOf(grantId, rotation)', path: ['idempotencyKey'] };

/**
 * v2: rotation `rotation` of the grant (a grant is rotated again at each owner change of its machine identity), keyed
 * `rotationKeyOf(grantId, rotation)`; with `credential` the connector REPLACES the grant's credential: it issues
 * `credential.credentialId` for the same grant and entitlement, ending at `credential.expiresAt`, sealed for
 * `credential.holders`, and revokes the credential it replaces. Without it, as v1: reset what the grant used.
 */
export const RotationRequestedV2DataSchema = z
  .strictObject({
    commandId: IdSchema,
    connectorId: ConnectorIdSchema,
    grantId: IdSchema,
    targetAccount: z.string().min(1).max(LIMITS.shortText),
    /** The entitlement as the target names it (what the replacement credential is bound to). */
    entitlementRef: z.string().min(1).max(LIMITS.shortText).optional(),
    reason: RotationReasonV2Schema,
    rotation: RotationNumberSchema,
    idempotencyKey: RotationKeySchema,
    credential: CredentialReplacementSchema.optional(),
  })
  .refine(rotationKeyMatches, ROTATION_KEY_MISMATCH)
  .refine((command) => command.credential === undefined || command.entitlementRef !== undefined, {
    message: 'a credential replacement names the entitlementRef it is bound to',
    path: ['entitlementRef'],
  });
export type RotationRequestedV2Data = z.infer<typeof RotationRequestedV2DataSchema>;

/** v1 → v2: a v1 command was the grant's only rotation (after a break-glass use) and replaced no credential. */
export function upcastRotationRequestedV1ToV2(previous: unknown): RotationRequestedV2Data {
  return { ...RotationRequestedDataSchema.parse(previous), rotation: 1 };
}

/** v2: which rotation was done and, for a replacement, the new credential's reference and fingerprint (never the secret). */
export const CredentialRotatedV2DataSchema = withoutSecrets(
  z
    .strictObject({
      commandId: IdSchema,
      connectorId: ConnectorIdSchema,
      grantId: IdSchema,
      idempotencyKey: RotationKeySchema,
      rotation: RotationNumberSchema,
      completedAt: TimestampSchema,
      alreadyApplied: z.boolean(),
      credential: RotatedCredentialRefSchema.optional(),
    })
    .refine(rotationKeyMatches, ROTATION_KEY_MISMATCH),
);
export type CredentialRotatedV2Data = z.infer<typeof CredentialRotatedV2DataSchema>;

export function upcastCredentialRotatedV1ToV2(previous: unknown): CredentialRotatedV2Data {
  return { ...CredentialRotatedDataSchema.parse(previous), rotation: 1 };
}

export const RotationFailedV2DataSchema = z
  .strictObject({
    commandId: IdSchema,
    connectorId: ConnectorIdSchema,
    grantId: IdSchema,
    idempotencyKey: RotationKeySchema,
    rotation: RotationNumberSchema,
    errorClass: ConnectorErrorClassSchema,
    code: z.string().min(1).max(100),
    message: ShortTextSchema,
    failedAt: TimestampSchema,
  })
  .refine(rotationKeyMatches, ROTATION_KEY_MISMATCH);
export type RotationFailedV2Data = z.infer<typeof RotationFailedV2DataSchema>;

export function upcastRotationFailedV1ToV2(previous: unknown): RotationFailedV2Data {
  return { ...RotationFailedDataSchema.parse(previous), rotation: 1 };
}

export const ConnectorRotationRequestedV1 = defineEvent(
  'iga.connector.rotation-requested',
  1,
  connectorCommandsTopic(CONNECTOR_ID_PLACEHOLDER),
  RotationRequestedDataSchema,
);
export const ConnectorRotationRequestedV2 = defineEvent(
  'iga.connector.rotation-requested',
  2,
  connectorCommandsTopic(CONNECTOR_ID_PLACEHOLDER),
  RotationRequestedV2DataSchema,
);
/** The current version: what provisioning writes and connectors handle (v1 upcast). */
export const ConnectorRotationRequested = ConnectorRotationRequestedV2;
export const ConnectorCredentialRotatedV1 = defineEvent(
  'iga.connector.credential-rotated',
  1,
  connectorResultsTopic(CONNECTOR_ID_PLACEHOLDER),
  CredentialRotatedDataSchema,
);
export const ConnectorCredentialRotatedV2 = defineEvent(
  'iga.connector.credential-rotated',
  2,
  connectorResultsTopic(CONNECTOR_ID_PLACEHOLDER),
  CredentialRotatedV2DataSchema,
);
export const ConnectorCredentialRotated = ConnectorCredentialRotatedV2;
export const ConnectorRotationFailedV1 = defineEvent(
  'iga.connector.rotation-failed',
  1,
  connectorResultsTopic(CONNECTOR_ID_PLACEHOLDER),
  RotationFailedDataSchema,
);
export const ConnectorRotationFailedV2 = defineEvent(
  'iga.connector.rotation-failed',
  2,
  connectorResultsTopic(CONNECTOR_ID_PLACEHOLDER),
  RotationFailedV2DataSchema,
);
export const ConnectorRotationFailed = ConnectorRotationFailedV2;
