import { z } from 'zod';

// The answers of the log's proof routes (ADR 0016): log-proofs.service.ts's views are these schemas' types, and the
// OpenAPI document is generated from them.

export const CheckpointViewSchema = z.object({
  origin: z.string().describe('The C2SP origin line naming the tree'),
  topic: z.string(),
  partition: z.number().int(),
  treeSize: z.number().int(),
  rootHash: z.string().describe('base64'),
  lastOffset: z.string(),
  note: z.string().describe('The signed note (C2SP tlog-checkpoint)'),
  signedAt: z.iso.datetime({ offset: true }),
});
export const CheckpointListSchema = z.object({ checkpoints: z.array(CheckpointViewSchema) });

export const InclusionProofViewSchema = z.object({
  origin: z.string(),
  topic: z.string(),
  partition: z.number().int(),
  offset: z.string(),
  eventId: z.string().optional(),
  leafIndex: z.number().int(),
  leafHash: z.string().describe("base64 of the RFC 9162 leaf hash of the record's bytes"),
  treeSize: z.number().int(),
  proof: z.array(z.string()).describe('base64 hashes, leaf to root'),
  checkpoint: CheckpointViewSchema,
});

export const ConsistencyProofViewSchema = z.object({
  origin: z.string(),
  from: z.number().int(),
  to: z.number().int(),
  fromRoot: z.string(),
  toRoot: z.string(),
  proof: z.array(z.string()),
  fromCheckpoint: CheckpointViewSchema.optional().describe('The signed checkpoint at from, when one was published'),
  toCheckpoint: CheckpointViewSchema,
});

export const VerifierKeySchema = z.object({
  keyName: z.string(),
  keyId: z.string().describe('hex'),
  vkey: z.string().describe('C2SP signed-note verifier key'),
  publicKeyPem: z.string().describe('SPKI PEM'),
});
