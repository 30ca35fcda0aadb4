import { z } from 'zod';
import { IdSchema, LIMITS, ShortTextSchema, TimestampSchema } from '../common/primitives.schema';
import { AccountDeactivationKeySchema, AccountDeactivationReasonSchema, accountDeactivationKeyOf } from '../grants/account-deactivation.schema';
import { defineEvent } from '../registry/event-definition';
import { CONNECTOR_ID_PLACEHOLDER, connectorCommandsTopic, connectorResultsTopic } from '../topics/topic.catalogue';
import { ConnectorErrorClassSchema } from './connector.schema';

const ConnectorIdSchema = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,99}$/, { message: 'Invalid connector id' });
const keyMatches = (command: { identityId: string; idempotencyKey: string }): boolean =>
  command.idempotencyKey === accountDeactivationKeyOf(command.identityId);
const KEY_MISMATCH = { message: 'Invalid idempotencyKey: expected <identityId>:deactivate', path: ['idempotencyKey'] };

/**
 * Provisioning asks a connector that declares the `deactivateAccount` capability to deactivate a leaver's account
 * (SCIM: `active: false`). Answered by `iga.connector.account-deactivated` or `iga.connector.account-deactivation-failed`;
 * the frozen operation-failed schema knows only provision and deprovision.
 */
export const AccountDeactivationCommandDataSchema = z
  .strictObject({
    commandId: IdSchema,
    connectorId: ConnectorIdSchema,
    identityId: IdSchema,
    /** The account to deactivate (login, userName, principal). */
    targetAccount: z.string().min(1).max(LIMITS.shortText),
    reason: AccountDeactivationReasonSchema,
    idempotencyKey: AccountDeactivationKeySchema,
  })
  .refine(keyMatches, KEY_MISMATCH);
export type AccountDeactivationCommandData = z.infer<typeof AccountDeactivationCommandDataSchema>;

export const ConnectorAccountDeactivatedDataSchema = z
  .strictObject({
    commandId: IdSchema,
    connectorId: ConnectorIdSchema,
    identityId: IdSchema,
    idempotencyKey: AccountDeactivationKeySchema,
    completedAt: TimestampSchema,
    /** true when the account was inactive or absent already, or the command was a repeat. */
    alreadyApplied: z.boolean(),
  })
  .refine(keyMatches, KEY_MISMATCH);
export type ConnectorAccountDeactivatedData = z.infer<typeof ConnectorAccountDeactivatedDataSchema>;

export const ConnectorAccountDeactivationFailedDataSchema = z
  .strictObject({
    commandId: IdSchema,
    connectorId: ConnectorIdSchema,
    identityId: IdSchema,
    idempotencyKey: AccountDeactivationKeySchema,
    errorClass: ConnectorErrorClassSchema,
    code: z.string().min(1).max(100),
    message: ShortTextSchema,
    failedAt: TimestampSchema,
  })
  .refine(keyMatches, KEY_MISMATCH);
export type ConnectorAccountDeactivationFailedData = z.infer<typeof ConnectorAccountDeactivationFailedDataSchema>;

export const ConnectorAccountDeactivationRequested = defineEvent(
  'iga.connector.account-deactivation-requested',
  1,
  connectorCommandsTopic(CONNECTOR_ID_PLACEHOLDER),
  AccountDeactivationCommandDataSchema,
);
export const ConnectorAccountDeactivated = defineEvent(
  'iga.connector.account-deactivated',
  1,
  connectorResultsTopic(CONNECTOR_ID_PLACEHOLDER),
  ConnectorAccountDeactivatedDataSchema,
);
export const ConnectorAccountDeactivationFailed = defineEvent(
  'iga.connector.account-deactivation-failed',
  1,
  connectorResultsTopic(CONNECTOR_ID_PLACEHOLDER),
  ConnectorAccountDeactivationFailedDataSchema,
);
