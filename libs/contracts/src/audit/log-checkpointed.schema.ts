import { z } from 'zod';
import { TimestampSchema } from '../common/primitives.schema';
import { defineEvent } from '../registry/event-definition';
import { TOPICS } from '../topics/topic.catalogue';

/** Base64 (standard alphabet, padded) of a SHA-256 hash: 32 bytes. */
const Sha256Base64Schema = z.string().regex(/^[A-Za-z0-9+/]{43}=$/, { message: 'Invalid hash: expected base64 of 32 bytes (sha256)' });

/**
 * A signed checkpoint of one Merkle tree of the log (ADR 0016): the audit service enters every record of one
 * lifecycle topic partition, in offset order, as a leaf of an RFC 9162 tree over the record's exact bytes, and
 * signs the tree's size and root as a C2SP tlog-checkpoint in a C2SP signed note (Ed25519). `note` is the whole
 * signed note, authoritative: the other fields repeat what it says for queries and must agree with it (a verifier
 * reads the note, never them). Records on `iga.audit.v1` itself are not in any tree: these checkpoints authenticate
 * themselves by their signature.
 */
export const LogCheckpointedDataSchema = z.strictObject({
  /** The checkpoint's origin line, naming the tree (cluster, namespace, topic, partition). */
  origin: z.string().min(1).max(500),
  /** The logical (catalogue) topic and the partition of the tree. */
  topic: z.string().min(1).max(249),
  partition: z.number().int().nonnegative(),
  /** Leaves in the tree: the records entered, the first `treeSize` records of the partition in offset order. */
  treeSize: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  rootHash: Sha256Base64Schema,
  /** Offset of the tree's last leaf (offsets have gaps: transaction markers take offsets and are no records). */
  lastOffset: z.string().regex(/^\d{1,19}$/),
  /** The C2SP signed note: checkpoint body, blank line, signature lines. */
  note: z.string().min(1).max(8_192),
  /** The signing key: its note name and its C2SP key id (4 bytes, hex). */
  keyName: z.string().regex(/^[^\s+]{1,100}$/),
  keyId: z.string().regex(/^[a-f0-9]{8}$/),
  signedAt: TimestampSchema,
});
export type LogCheckpointedData = z.infer<typeof LogCheckpointedDataSchema>;

export const AuditLogCheckpointed = defineEvent('iga.audit.log-checkpointed', 1, TOPICS.audit, LogCheckpointedDataSchema);
