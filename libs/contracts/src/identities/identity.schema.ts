import { z } from 'zod';
import { AttributesSchema, IdSchema, LIMITS, NameSchema, TimestampSchema } from '../common/primitives.schema';
import { withoutSecrets } from '../common/no-secrets.schema';
import { defineEvent } from '../registry/event-definition';
import { TOPICS } from '../topics/topic.catalogue';

export const IdentityStatusSchema = z.enum(['active', 'suspended', 'offboarded']);

const CommonIdentityFields = {
  identityId: IdSchema,
  displayName: NameSchema,
  team: NameSchema.optional(),
  status: IdentityStatusSchema,
  attributes: AttributesSchema.default({}),
  /** The authoritative source (HR system, cloud directory, ...), for explaining where the record came from. */
  sourceSystem: IdSchema.optional(),
};

export const HumanIdentitySchema = z.strictObject({
  ...CommonIdentityFields,
  kind: z.literal('human'),
  email: z.email().max(LIMITS.name).optional(),
  /** Absent only for the top of the hierarchy; approvals routed to `manager` then fall back to security. */
  managerId: IdSchema.optional(),
});

/** A non-human identity always has an accountable human owner of record: the guard against orphaned access. */
export const NonHumanIdentitySchema = z.strictObject({
  ...CommonIdentityFields,
  kind: z.enum(['service_account', 'api_key', 'workload', 'ci_pipeline', 'ai_agent']),
  ownerId: IdSchema,
  /** Where it runs, e.g. the cloud account or cluster. */
  platform: NameSchema.optional(),
});

export const IdentitySchema = z.discriminatedUnion('kind', [HumanIdentitySchema, NonHumanIdentitySchema]);
export type Identity = z.infer<typeof IdentitySchema>;

export const IdentityUpsertedDataSchema = withoutSecrets(
  z.strictObject({
    identity: IdentitySchema,
    /** Monotonic per identity at the source, so a late duplicate cannot overwrite a newer record. */
    sourceVersion: z.number().int().nonnegative().optional(),
  }),
);
export type IdentityUpsertedData = z.infer<typeof IdentityUpsertedDataSchema>;

export const IdentityOwnerChangedDataSchema = z.strictObject({
  identityId: IdSchema,
  previousOwnerId: IdSchema.optional(),
  newOwnerId: IdSchema,
  reason: z.enum(['transfer', 'owner_offboarded', 'reassignment', 'correction']),
  changedBy: IdSchema,
});
export type IdentityOwnerChangedData = z.infer<typeof IdentityOwnerChangedDataSchema>;

/**
 * Step one of a governed change of an NHI's owner of record: proposed by the current owner, their manager, the
 * identity source or an administrator; it takes effect (`owner-changed`, reason `transfer`) only when the proposed
 * owner accepts, so nobody is made accountable for a machine identity without knowing it.
 */
export const IdentityOwnerTransferProposedDataSchema = z.strictObject({
  transferId: IdSchema,
  identityId: IdSchema,
  currentOwnerId: IdSchema,
  proposedOwnerId: IdSchema,
  proposedBy: IdSchema,
  reason: z.string().trim().min(1).max(LIMITS.shortText),
  proposedAt: TimestampSchema,
});
export type IdentityOwnerTransferProposedData = z.infer<typeof IdentityOwnerTransferProposedDataSchema>;

export const IdentityOffboardedDataSchema = z.strictObject({
  identityId: IdSchema,
  kind: z.enum(['human', 'service_account', 'api_key', 'workload', 'ci_pipeline', 'ai_agent']),
  effectiveAt: TimestampSchema,
  reason: z.enum(['leaver', 'decommissioned', 'compromised', 'other']),
  /** NHIs owned by a leaver: each needs a new owner or its grants are revoked. */
  ownedIdentityIds: z.array(IdSchema).max(LIMITS.listItems).default([]),
});
export type IdentityOffboardedData = z.infer<typeof IdentityOffboardedDataSchema>;

export const IdentityUpserted = defineEvent('iga.identity.upserted', 1, TOPICS.identities, IdentityUpsertedDataSchema);
export const IdentityOwnerChanged = defineEvent('iga.identity.owner-changed', 1, TOPICS.identities, IdentityOwnerChangedDataSchema);
export const IdentityOwnerTransferProposed = defineEvent('iga.identity.owner-transfer-proposed', 1, TOPICS.identities, IdentityOwnerTransferProposedDataSchema);
export const IdentityOffboarded = defineEvent('iga.identity.offboarded', 1, TOPICS.identities, IdentityOffboardedDataSchema);
