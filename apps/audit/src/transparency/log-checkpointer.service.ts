import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import type { BeforeApplicationShutdown, OnApplicationBootstrap } from '@nestjs/common';
import { AuditLogCheckpointed, TOPICS } from '@grantline/contracts';
import type { Envelope, EventRegistry, LogCheckpointedData } from '@grantline/contracts';
import { deterministicEventId, StateLoader, StateReadinessRegistry } from '@grantline/messaging';
import type { ClosableState, MessageBus } from '@grantline/messaging';
import { EVENT_REGISTRY, MESSAGE_BUS } from '@grantline/messaging-nest';
import { LogTrees, formatCheckpoint, openSignedNote, parseCheckpoint, treeTopics } from '@grantline/transparency';
import type { LogTree, PublishedCheckpoint } from '@grantline/transparency';
import { AUDIT_SIGNING } from './audit-signing.config';
import type { AuditSigning } from './audit-signing.config';

/** What a start-up rebuild found. */
export interface RebuildReport {
  readonly records: number;
  readonly trees: number;
  readonly checkpoints: number;
  readonly tampered: number;
  readonly ms: number;
}

/** How long the stop may spend reading the newest records before its last checkpoints (the stop itself is bounded). */
const SHUTDOWN_TAIL_MS = 3_000;

/**
 * The audit's tamper evidence (ADR 0016). At start it rebuilds one Merkle tree per partition of every lifecycle topic
 * (every catalogue topic but `iga.audit.v1`, whose checkpoints authenticate themselves, plus the connector topics
 * that exist) by reading every record from offset 0, then compares them with the checkpoints already published on
 * `iga.audit.v1` and signed by this key: a tree now shorter than a published size, or with another root at that size,
 * means the log was edited — it is logged as an error naming the tree and size, nothing more is published for that
 * tree, and this state is not ready (fail closed). Then it follows the log: every interval, and at the stop, it
 * reads what was appended since and publishes a signed checkpoint of each tree that grew.
 *
 * Only the active instance runs it (the audit holds a lease): a standby runs no lifecycle hook.
 */
@Injectable()
export class LogCheckpointer implements ClosableState, OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('LogCheckpointer');
  private readonly loader: StateLoader<RebuildReport>;
  private trees: LogTrees | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** The tick running now: reads and publications never overlap. */
  private running: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
    @Inject(EVENT_REGISTRY) private readonly registry: EventRegistry,
    @Inject(AUDIT_SIGNING) private readonly signing: AuditSigning,
    @Optional() @Inject(StateReadinessRegistry) readiness?: StateReadinessRegistry,
  ) {
    this.loader = new StateLoader({
      name: 'audit log checkpoints',
      load: () => this.rebuild(),
      logger: { info: (msg, fields) => this.logger.log({ msg, ...fields }), warn: (msg, fields) => this.logger.warn({ msg, ...fields }) },
    });
    readiness?.register(this);
  }

  get name(): string {
    return this.loader.name;
  }

  /** Ready once rebuilt, and only while every tree still matches what was published of it. */
  isReady(): boolean {
    return this.loader.isReady() && (this.trees?.tampered().length ?? 0) === 0;
  }

  get lastError(): string | undefined {
    const tampered = this.trees?.tampered() ?? [];
    if (tampered.length > 0) return `the log was edited: ${tampered.map((tree) => tree.tampered).join('; ')}`;
    return this.loader.lastError;
  }

  /** The trees, once rebuilt (the query API answers 503 until then). */
  get logTrees(): LogTrees | undefined {
    return this.loader.isReady() ? this.trees : undefined;
  }

  /** Resolves once the trees are rebuilt (rejects only when the service stops first). */
  whenRebuilt(): Promise<RebuildReport> {
    return this.loader.whenLoaded();
  }

  onApplicationBootstrap(): void {
    this.loader.start();
    void this.loader.whenLoaded().then(
      () => this.schedule(),
      () => undefined,
    );
  }

  /** Before the bus disconnects: read what came since the last tick and sign it, bounded in time. */
  async beforeApplicationShutdown(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running.catch(() => undefined);
    if (!this.loader.isReady()) return void (await this.loader.close());
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, SHUTDOWN_TAIL_MS)));
    try {
      await Promise.race([this.follow().catch((error: unknown) => this.logger.warn(`last read before the stop failed: ${String(error)}`)), late]);
      await this.publish();
    } catch (error) {
      this.logger.error(`the last checkpoints before the stop could not be published: ${String(error)}`);
    } finally {
      clearTimeout(timer);
      await this.loader.close();
    }
  }

  close(): Promise<void> {
    return this.loader.close();
  }

  /** One follow-and-publish step now (specs; the timer runs the same). */
  async tick(): Promise<void> {
    const step = this.running.then(async () => {
      await this.follow();
      await this.publish();
    });
    this.running = step.catch(() => undefined);
    return step;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.tick()
        .catch((error: unknown) => this.logger.warn(`checkpoint step failed, retried at the next interval: ${String(error)}`))
        .finally(() => this.schedule());
    }, this.signing.checkpointIntervalMs);
    this.timer.unref();
  }

  /** The topics whose partitions have trees (the connector topics among them as they exist now). */
  private async lifecycleTopics(): Promise<string[]> {
    return treeTopics(await this.bus.listTopics());
  }

  private async rebuild(): Promise<RebuildReport> {
    const started = Date.now();
    const trees = new LogTrees(await this.bus.logIdentity());
    const records = await this.bus.replayRaw({ topics: await this.lifecycleTopics(), batchHandler: async (batch) => void trees.append(batch) });
    let checkpoints = 0;
    await this.bus.replay({
      topics: [TOPICS.audit],
      handler: async (event) => {
        if (event.type !== AuditLogCheckpointed.type) return;
        const checkpoint = this.openCheckpoint(event.data as LogCheckpointedData);
        if (checkpoint === undefined) return;
        const verdict = trees.admitPublished(checkpoint);
        if ('foreign' in verdict) return;
        checkpoints += 1;
        if (!verdict.agrees)
          this.logger.error({
            msg: 'the log was edited: a tree no longer matches its signed checkpoint',
            origin: checkpoint.origin,
            treeSize: checkpoint.treeSize,
            reason: verdict.reason,
          });
      },
      onInvalid: (error, origin) => this.logger.warn(`skipped an undecodable record at ${origin.topic}/${origin.partition}@${origin.offset}: ${String(error)}`),
    });
    this.trees = trees;
    const report = { records, trees: trees.all().length, checkpoints, tampered: trees.tampered().length, ms: Date.now() - started };
    this.logger.log({ msg: 'log trees rebuilt', ...report });
    return report;
  }

  /** The checkpoint a published event states, if its note is signed by this key; anything else is not ours to trust. */
  private openCheckpoint(data: LogCheckpointedData): PublishedCheckpoint | undefined {
    try {
      const body = parseCheckpoint(openSignedNote(data.note, this.signing.vkey).body);
      return {
        origin: body.origin,
        topic: data.topic,
        partition: data.partition,
        treeSize: body.size,
        rootHash: body.rootHash,
        lastOffset: data.lastOffset,
        note: data.note,
        signedAt: data.signedAt,
      };
    } catch (error) {
      this.logger.warn({
        msg: 'ignored a checkpoint not signed by this key',
        origin: data.origin,
        treeSize: data.treeSize,
        keyId: data.keyId,
        reason: String(error),
      });
      return undefined;
    }
  }

  /** Enters what was appended since the last read. */
  private async follow(): Promise<number> {
    const trees = this.trees;
    if (trees === undefined) return 0;
    return this.bus.replayRaw({ topics: await this.lifecycleTopics(), from: trees.nextOffsets(), batchHandler: async (batch) => void trees.append(batch) });
  }

  /** A signed checkpoint of each tree that grew since its latest one; none of a tree whose log was edited. */
  private async publish(): Promise<void> {
    const trees = this.trees;
    if (trees === undefined) return;
    const grown = trees.all().filter((tree) => tree.tampered === undefined && tree.log.size > (tree.checkpoints[tree.checkpoints.length - 1]?.treeSize ?? 0));
    if (grown.length === 0) return;
    const signed = grown.map((tree) => ({ tree, checkpoint: this.sign(tree) }));
    await this.bus.publisher.publish(
      TOPICS.audit,
      signed.map(({ checkpoint }) => this.envelope(checkpoint)),
    );
    for (const { tree, checkpoint } of signed) trees.remember(tree, checkpoint);
  }

  private sign(tree: LogTree): PublishedCheckpoint {
    const treeSize = tree.log.size;
    const rootHash = tree.log.root(treeSize);
    return {
      origin: tree.origin,
      topic: tree.topic,
      partition: tree.partition,
      treeSize,
      rootHash,
      lastOffset: tree.offsets[treeSize - 1]!.toString(),
      note: this.signing.signer.sign(formatCheckpoint({ origin: tree.origin, size: treeSize, rootHash })),
      signedAt: new Date().toISOString(),
    };
  }

  private envelope(checkpoint: PublishedCheckpoint): Envelope {
    const data: LogCheckpointedData = {
      origin: checkpoint.origin,
      topic: checkpoint.topic,
      partition: checkpoint.partition,
      treeSize: checkpoint.treeSize,
      rootHash: checkpoint.rootHash.toString('base64'),
      lastOffset: checkpoint.lastOffset,
      note: checkpoint.note,
      keyName: this.signing.keyName,
      keyId: this.signing.signer.keyId.toString('hex'),
      signedAt: checkpoint.signedAt,
    };
    return this.registry.encode(AuditLogCheckpointed, data, {
      // The same tree at the same size is the same checkpoint: a repeated publication carries the same id.
      id: deterministicEventId('audit-log-checkpoint', checkpoint.origin, String(checkpoint.treeSize)),
      source: 'grantline/audit',
      time: checkpoint.signedAt,
      subject: checkpoint.origin,
      correlationid: checkpoint.origin,
      actor: { kind: 'service', id: 'audit' },
    });
  }
}
