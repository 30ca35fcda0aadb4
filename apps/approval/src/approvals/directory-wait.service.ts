import { Inject, Injectable, Logger } from '@nestjs/common';
import type { OnModuleDestroy } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { BoundedWait } from '@grantline/service-kit';
import type { Directory } from '../domain/directory';
import { isKnown } from '../domain/route-prerequisites';
import type { DirectoryGap } from '../domain/route-prerequisites';
import { APPROVAL_CONFIG } from './approval.config';
import type { ApprovalConfig } from './approval.config';
import { RouteRequest } from './approval-commands';

/** A route that failed after its wait, or on resuming, is tried again after this long at least. */
const MIN_RETRY_MS = 1_000;

const describeGaps = (gaps: readonly DirectoryGap[]): string[] =>
  gaps.map((gap) =>
    gap.kind === 'identity'
      ? `identity ${gap.identityId} (${gap.role})`
      : gap.kind === 'access_package'
        ? `access package ${gap.accessPackageId}`
        : `entitlement ${gap.entitlementId}`,
  );

/**
 * Routes that wait for the directory (ADR 0006), on the service kit's BoundedWait. A decision can be consumed before
 * the identity or catalogue entry it resolves approvers from (another topic): its route publishes nothing and waits
 * until a directory fact fills a gap (ApplyDirectoryFact routes it) or `APPROVAL_DIRECTORY_WAIT_MS` has passed; then
 * it is routed with what is known. Waits live in memory (the decision's offset is committed): after the start-up
 * replay ResumeRoutes finds them again in the state.
 */
@Injectable()
export class DirectoryWaitService implements OnModuleDestroy {
  private readonly wait: BoundedWait<DirectoryGap>;
  private readonly retryMs: number;
  private readonly logger = new Logger('approval');

  constructor(
    @Inject(APPROVAL_CONFIG) private readonly config: ApprovalConfig,
    commands: CommandBus,
  ) {
    this.retryMs = Math.max(config.directoryWaitMs, MIN_RETRY_MS);
    this.wait = new BoundedWait<DirectoryGap>({
      waitMs: config.directoryWaitMs,
      retryMs: this.retryMs,
      onWaitOver: (requestId) => commands.execute(new RouteRequest(requestId, undefined, false)),
      onRetry: (requestId, error) => this.logger.warn({ msg: 'routing after the directory wait failed; retrying later', requestId, error: String(error) }),
    });
  }

  /** False with APPROVAL_DIRECTORY_WAIT_MS=0: routes never wait, they go with what the directory knows. */
  get enabled(): boolean {
    return this.config.directoryWaitMs > 0;
  }

  /** The first park sets the deadline; parking again (a redelivery, a re-check) only updates what is missing. */
  park(requestId: string, gaps: readonly DirectoryGap[], afterMs = this.config.directoryWaitMs): void {
    const first = !this.wait.has(requestId);
    if (this.wait.park(requestId, gaps, afterMs) && first) {
      this.logger.log({ msg: 'route waits for the directory', requestId, missing: describeGaps(gaps), waitMs: afterMs });
    }
  }

  /** A route that failed outside a handler's retry (on resuming after the replay) is tried again later, not lost. */
  retryLater(requestId: string, gaps: readonly DirectoryGap[]): void {
    this.park(requestId, gaps, this.retryMs);
  }

  /** The route is decided, or nothing is left to route; `stillMissing`: what a route after the wait went without. */
  release(requestId: string, stillMissing: readonly DirectoryGap[] = []): void {
    this.wait.release(requestId);
    if (stillMissing.length > 0) this.logger.warn({ msg: 'routed without what the directory still lacks', requestId, missing: describeGaps(stillMissing) });
  }

  /** What the request's route still waits for; undefined when it is not waiting. */
  waitingFor(requestId: string): readonly DirectoryGap[] | undefined {
    return this.wait.waiting().get(requestId);
  }

  get waitingCount(): number {
    return this.wait.size;
  }

  /** The waiting requests `directory` now knows something for: a heuristic, each route checks again under its lock. */
  completedBy(directory: Directory): string[] {
    return [...this.wait.waiting()].filter(([, gaps]) => gaps.some((gap) => isKnown(directory, gap))).map(([requestId]) => requestId);
  }

  /** Nothing is lost: after the next start ResumeRoutes finds the waiting routes again. */
  onModuleDestroy(): void {
    this.wait.stop();
  }
}
