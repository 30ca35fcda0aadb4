import { z } from 'zod';
import { IdSchema, Sha256HexSchema, TimestampSchema } from '../common/primitives.schema';
import { defineEvent } from '../registry/event-definition';
import { TOPICS } from '../topics/topic.catalogue';

/**
 * A signed statement that the audit service saw exactly these offsets, chained to the previous checkpoint.
 * Frozen: it never had a producer, and a hash chain over offset ranges does not fit the Merkle checkpoints the audit
 * publishes (no inclusion or consistency proofs); those are `iga.audit.log-checkpointed` v1 (ADR 0016). Kept
 * registered so that a record of it, should one exist, still decodes.
 */
export const CheckpointSignedDataSchema = z.strictObject({
  checkpointId: IdSchema,
  sequence: z.number().int().min(1),
  covers: z
    .array(
      z.strictObject({
        topic: z.string().min(1).max(249),
        partition: z.number().int().nonnegative(),
        fromOffset: z.string().regex(/^\d{1,19}$/),
        toOffset: z.string().regex(/^\d{1,19}$/),
      }),
    )
    .min(1)
    .max(10_000),
  /** sha256 over the covered events, chained: head = sha256(previousHead || event hashes). */
  chainHead: Sha256HexSchema,
  previousCheckpointHash: Sha256HexSchema.nullable(),
  signature: z.strictObject({
    alg: z.enum(['EdDSA', 'ES256', 'RS256']),
    keyId: IdSchema,
    /** base64url signature over the canonical checkpoint (a signature is public, not a secret). */
    value: z.string().regex(/^[A-Za-z0-9_-]{16,1024}$/),
  }),
  signedAt: TimestampSchema,
});
export type CheckpointSignedData = z.infer<typeof CheckpointSignedDataSchema>;

export const AuditCheckpointSigned = defineEvent('iga.audit.checkpoint-signed', 1, TOPICS.audit, CheckpointSignedDataSchema);
