import { z } from 'zod';
import { IdSchema, LIMITS, ShortTextSchema, TimestampSchema } from '../common/primitives.schema';
import { RotationReasonSchema, rotationKeyOf } from '../grants/grant-rotation.schema';
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

export const ConnectorRotationRequested = defineEvent(
  'iga.connector.rotation-requested',
  1,
  connectorCommandsTopic(CONNECTOR_ID_PLACEHOLDER),
  RotationRequestedDataSchema,
);
export const ConnectorCredentialRotated = defineEvent(
  'iga.connector.credential-rotated',
  1,
  connectorResultsTopic(CONNECTOR_ID_PLACEHOLDER),
  CredentialRotatedDataSchema,
);
export const ConnectorRotationFailed = defineEvent(
  'iga.connector.rotation-failed',
  1,
  connectorResultsTopic(CONNECTOR_ID_PLACEHOLDER),
  RotationFailedDataSchema,
);
