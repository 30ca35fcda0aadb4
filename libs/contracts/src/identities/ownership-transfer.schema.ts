import { z } from 'zod';
import { IdSchema, LIMITS, TimestampSchema } from '../common/primitives.schema';
import { defineEvent } from '../registry/event-definition';
import { TOPICS } from '../topics/topic.catalogue';

/**
 * What happens to the grants an orphaned machine identity holds while its ownership transfer case is open, chosen by
 * the intake's ownership policy when it opens the case (and recorded here, so a replay acts as the original did):
 * `revoke_now` revokes them at once; `keep_until_deadline` keeps them until the case's deadline passes unanswered.
 */
export const OrphanedGrantsDispositionSchema = z.enum(['revoke_now', 'keep_until_deadline']);
export type OrphanedGrantsDisposition = z.infer<typeof OrphanedGrantsDispositionSchema>;

/**
 * The owner of record of a machine identity left (OWASP NHI1, ownerless NHIs): a case opens for someone to take
 * ownership by `dueAt`. Until an `owner-changed` closes it the NHI is frozen (policy denies new requests for it).
 * Assigned to the leaver's manager, or, when there is none, to whoever holds `assigneeRole` (the configured fallback).
 * Keyed by the machine identity, so the case and its owner change are ordered.
 */
export const IdentityOwnershipTransferOpenedDataSchema = z
  .strictObject({
    transferId: IdSchema,
    identityId: IdSchema,
    previousOwnerId: IdSchema,
    /** People who may accept ownership (the leaver's manager); empty when the case falls back to `assigneeRole`. */
    assigneeIds: z.array(IdSchema).max(LIMITS.listItems),
    /** The fallback group (a Grantline role) whose members may accept when there is no manager. */
    assigneeRole: z
      .string()
      .regex(/^[a-z][a-z0-9-]{0,49}$/, { message: 'Invalid assigneeRole: expected a role name' })
      .optional(),
    dueAt: TimestampSchema,
    openedAt: TimestampSchema,
    reason: z.literal('owner_offboarded'),
    grantsDisposition: OrphanedGrantsDispositionSchema,
  })
  .refine((data) => data.assigneeIds.length > 0 || data.assigneeRole !== undefined, {
    message: 'name at least one assignee (assigneeIds) or a fallback group (assigneeRole)',
    path: ['assigneeIds'],
  });
export type IdentityOwnershipTransferOpenedData = z.infer<typeof IdentityOwnershipTransferOpenedDataSchema>;

/**
 * Every credential the machine identity holds is to be rotated: whoever left may know them. The rotation itself is the
 * credential lifecycle's (it resolves the credentials through the identity's grants); this is the flag, on the log.
 */
export const IdentityCredentialsRotationFlaggedDataSchema = z.strictObject({
  identityId: IdSchema,
  reason: z.literal('owner_offboarded'),
  /** The ownership transfer case that raised the flag. */
  transferId: IdSchema,
  flaggedAt: TimestampSchema,
});
export type IdentityCredentialsRotationFlaggedData = z.infer<typeof IdentityCredentialsRotationFlaggedDataSchema>;

export const IdentityOwnershipTransferOpened = defineEvent(
  'iga.identity.ownership-transfer-opened',
  1,
  TOPICS.identities,
  IdentityOwnershipTransferOpenedDataSchema,
);
export const IdentityCredentialsRotationFlagged = defineEvent(
  'iga.identity.credentials-rotation-flagged',
  1,
  TOPICS.identities,
  IdentityCredentialsRotationFlaggedDataSchema,
);
