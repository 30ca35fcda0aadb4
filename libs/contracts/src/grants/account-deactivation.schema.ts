import { z } from 'zod';
import { IdSchema, LIMITS, ShortTextSchema, TimestampSchema } from '../common/primitives.schema';
import { defineEvent } from '../registry/event-definition';
import { TOPICS } from '../topics/topic.catalogue';

/**
 * `<identityId>:deactivate`: deactivating a leaver's account is one side effect per (identity, connector) however
 * often it is asked for. The connector's idempotency store is its own, so the connector need not be in the key.
 */
export function accountDeactivationKeyOf(identityId: string): string {
  return `${identityId}:deactivate`;
}

/** Why an account is deactivated; only leavers for now (an NHI's grants are revoked, its workload account is not touched). */
export const AccountDeactivationReasonSchema = z.enum(['offboarding']);
export type AccountDeactivationReason = z.infer<typeof AccountDeactivationReasonSchema>;

export const AccountDeactivationKeySchema = z
  .string()
  .regex(/^\S+:deactivate$/, { message: 'Invalid idempotencyKey: expected <identityId>:deactivate' })
  .max(LIMITS.id + 20);
const ConnectorIdSchema = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,99}$/, { message: 'Invalid connector id' });
const TargetAccountSchema = z.string().min(1).max(LIMITS.shortText);

/**
 * A leaver's account in one target is to be deactivated (a SCIM user set `active: false`), beside the revocation of
 * its grants there: provisioning asked the connector (`iga.connector.account-deactivation-requested`). Keyed by the
 * identity, once per (identity, connector).
 */
export const AccountDeactivationRequestedDataSchema = z.strictObject({
  identityId: IdSchema,
  connectorId: ConnectorIdSchema,
  /** The account the leaver's grants used there (the latest grant's `targetAccount`). */
  targetAccount: TargetAccountSchema,
  reason: AccountDeactivationReasonSchema,
  idempotencyKey: AccountDeactivationKeySchema,
  attempt: z.number().int().min(1),
  /** The grants through which the leaver has (or had) the account: why this connector is asked. */
  grantIds: z.array(IdSchema).min(1).max(LIMITS.listItems),
  /** The event that made it due (the offboarding, or a connector's report that it is reachable again). */
  triggeredBy: IdSchema,
});
export type AccountDeactivationRequestedData = z.infer<typeof AccountDeactivationRequestedDataSchema>;

/** The connector deactivated the account (or found it inactive or absent: `alreadyApplied`). */
export const AccountDeactivatedDataSchema = z.strictObject({
  identityId: IdSchema,
  connectorId: ConnectorIdSchema,
  targetAccount: TargetAccountSchema,
  deactivatedAt: TimestampSchema,
  alreadyApplied: z.boolean(),
});
export type AccountDeactivatedData = z.infer<typeof AccountDeactivatedDataSchema>;

/** A deactivation attempt failed; `terminal`: no more attempts until the connector is reachable again (an alert). */
export const AccountDeactivationFailedDataSchema = z.strictObject({
  identityId: IdSchema,
  connectorId: ConnectorIdSchema,
  targetAccount: TargetAccountSchema,
  code: z.string().min(1).max(100),
  reason: ShortTextSchema,
  retriable: z.boolean(),
  attempts: z.number().int().min(1),
  terminal: z.boolean(),
  failedAt: TimestampSchema,
});
export type AccountDeactivationFailedData = z.infer<typeof AccountDeactivationFailedDataSchema>;

export const GrantAccountDeactivationRequested = defineEvent(
  'iga.grant.account-deactivation-requested',
  1,
  TOPICS.grants,
  AccountDeactivationRequestedDataSchema,
);
export const GrantAccountDeactivated = defineEvent('iga.grant.account-deactivated', 1, TOPICS.grants, AccountDeactivatedDataSchema);
export const GrantAccountDeactivationFailed = defineEvent('iga.grant.account-deactivation-failed', 1, TOPICS.grants, AccountDeactivationFailedDataSchema);
