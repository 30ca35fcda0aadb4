import { Injectable } from '@nestjs/common';
import { z } from 'zod';
import type { ViewOf } from '@grantline/http-edge';
import type { CheckpointViewSchema, ConsistencyProofViewSchema, InclusionProofViewSchema } from './log-proofs.schema';
import { IdSchema } from '@grantline/contracts';
import { LogCheckpointer } from './log-checkpointer.service';
import type { LeafPosition, LogTree, LogTrees, PublishedCheckpoint } from '@grantline/transparency';

const TopicSchema = z.string().regex(/^[A-Za-z0-9._-]{1,249}$/, 'a Kafka topic name (letters, digits, ".", "_", "-")');
const PartitionSchema = z.coerce.number().int().min(0).max(1_000_000);
const OffsetSchema = z.string().regex(/^(0|[1-9]\d{0,18})$/, 'a decimal offset');
const TreeSizeSchema = z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER);

/** `eventId`, or `topic` + `partition` + `offset`; `treeSize`: the checkpoint to prove against (default the latest). */
export const InclusionQuerySchema = z
  .strictObject({
    eventId: IdSchema.optional().describe('The CloudEvent id (or give topic, partition and offset)'),
    topic: TopicSchema.optional(),
    partition: PartitionSchema.optional(),
    offset: OffsetSchema.optional(),
    treeSize: TreeSizeSchema.optional().describe('The size of a published checkpoint to prove against (default the latest)'),
  })
  .superRefine((query, context) => {
    const byPosition = query.topic !== undefined || query.partition !== undefined || query.offset !== undefined;
    if (query.eventId !== undefined && byPosition)
      context.addIssue({ code: 'custom', path: ['eventId'], message: 'give eventId, or topic, partition and offset, not both' });
    if (query.eventId === undefined && !byPosition)
      context.addIssue({ code: 'custom', path: ['eventId'], message: 'required: eventId, or topic, partition and offset' });
    if (query.eventId === undefined && byPosition) {
      for (const field of ['topic', 'partition', 'offset'] as const) {
        if (query[field] === undefined)
          context.addIssue({
            code: 'custom',
            path: [field],
            message: `required with ${['topic', 'partition', 'offset'].filter((f) => f !== field).join(' and ')}`,
          });
      }
    }
  });
export type InclusionQuery = z.infer<typeof InclusionQuerySchema>;

/** Two sizes of one tree: `from` (≥ 1) and `to` (default the latest checkpoint's size). */
export const ConsistencyQuerySchema = z
  .strictObject({
    topic: TopicSchema,
    partition: PartitionSchema,
    from: TreeSizeSchema.describe('The older size (≥ 1)'),
    to: TreeSizeSchema.optional().describe('The size of a published checkpoint (default the latest)'),
  })
  .refine((query) => query.to === undefined || query.from <= query.to, { path: ['from'], message: 'must not exceed to' });
export type ConsistencyQuery = z.infer<typeof ConsistencyQuerySchema>;

export const TreeParamsSchema = z.strictObject({ topic: TopicSchema, partition: PartitionSchema });

export type CheckpointView = ViewOf<typeof CheckpointViewSchema>;
export type InclusionProofView = ViewOf<typeof InclusionProofViewSchema>;
export type ConsistencyProofView = ViewOf<typeof ConsistencyProofViewSchema>;

/** Why a proof cannot be given: the answer is 404 with this detail. */
export class ProofNotFound extends Error {
  override readonly name = 'ProofNotFound';
}

export const checkpointView = (checkpoint: PublishedCheckpoint): CheckpointView => ({
  origin: checkpoint.origin,
  topic: checkpoint.topic,
  partition: checkpoint.partition,
  treeSize: checkpoint.treeSize,
  rootHash: checkpoint.rootHash.toString('base64'),
  lastOffset: checkpoint.lastOffset,
  note: checkpoint.note,
  signedAt: checkpoint.signedAt,
});

const base64 = (hashes: readonly Buffer[]): string[] => hashes.map((hash) => hash.toString('base64'));

/** Checkpoints and proofs, answered from the checkpointer's trees (only signed sizes are proved against). */
@Injectable()
export class LogProofsService {
  constructor(private readonly checkpointer: LogCheckpointer) {}

  latestCheckpoints(): { checkpoints: CheckpointView[] } {
    return { checkpoints: this.trees().flatMap((tree) => tree.checkpoints.slice(-1).map(checkpointView)) };
  }

  checkpointsOf(topic: string, partition: number): { checkpoints: CheckpointView[] } {
    const tree = this.treesIndex().find(topic, partition);
    if (tree === undefined || tree.checkpoints.length === 0) throw new ProofNotFound(`No checkpoint of ${topic}/${partition}`);
    return { checkpoints: tree.checkpoints.map(checkpointView) };
  }

  inclusion(query: InclusionQuery): InclusionProofView {
    const trees = this.treesIndex();
    const position: LeafPosition | undefined =
      query.eventId !== undefined ? trees.byEvent(query.eventId) : trees.byOffset(query.topic!, query.partition!, BigInt(query.offset!));
    if (position === undefined) {
      throw new ProofNotFound(
        query.eventId !== undefined ? `Unknown event ${query.eventId}` : `No record at ${query.topic}/${query.partition}@${query.offset}`,
      );
    }
    const { tree, index } = position;
    const checkpoint = this.checkpointAt(tree, query.treeSize);
    if (index >= checkpoint.treeSize)
      throw new ProofNotFound(
        `The record is leaf ${index} of ${tree.origin}, not yet covered by a checkpoint (the one asked for holds ${checkpoint.treeSize})`,
      );
    return {
      origin: tree.origin,
      topic: tree.topic,
      partition: tree.partition,
      offset: tree.offsets[index]!.toString(),
      ...(query.eventId !== undefined ? { eventId: query.eventId } : {}),
      leafIndex: index,
      leafHash: tree.log.leaf(index).toString('base64'),
      treeSize: checkpoint.treeSize,
      proof: base64(tree.log.inclusionProof(index, checkpoint.treeSize)),
      checkpoint: checkpointView(checkpoint),
    };
  }

  consistency(query: ConsistencyQuery): ConsistencyProofView {
    const tree = this.treesIndex().find(query.topic, query.partition);
    if (tree === undefined || tree.checkpoints.length === 0) throw new ProofNotFound(`No checkpoint of ${query.topic}/${query.partition}`);
    const to = this.checkpointAt(tree, query.to);
    if (query.from > to.treeSize) throw new ProofNotFound(`from ${query.from} exceeds the checkpoint's size ${to.treeSize}`);
    const from = tree.checkpoints.find((checkpoint) => checkpoint.treeSize === query.from);
    return {
      origin: tree.origin,
      from: query.from,
      to: to.treeSize,
      fromRoot: tree.log.root(query.from).toString('base64'),
      toRoot: to.rootHash.toString('base64'),
      proof: base64(tree.log.consistencyProof(query.from, to.treeSize)),
      ...(from !== undefined ? { fromCheckpoint: checkpointView(from) } : {}),
      toCheckpoint: checkpointView(to),
    };
  }

  private checkpointAt(tree: LogTree, treeSize: number | undefined): PublishedCheckpoint {
    if (tree.checkpoints.length === 0) throw new ProofNotFound(`No checkpoint of ${tree.origin} yet`);
    if (treeSize === undefined) return tree.checkpoints[tree.checkpoints.length - 1]!;
    const found = tree.checkpoints.find((checkpoint) => checkpoint.treeSize === treeSize);
    if (found === undefined) throw new ProofNotFound(`No checkpoint of ${tree.origin} at size ${treeSize}`);
    return found;
  }

  private treesIndex(): LogTrees {
    // RequireLoaded(LogCheckpointer) guards every route that comes here.
    const trees = this.checkpointer.logTrees;
    if (trees === undefined) throw new Error('log trees not rebuilt yet');
    return trees;
  }

  private trees(): LogTree[] {
    return this.treesIndex().all();
  }
}
