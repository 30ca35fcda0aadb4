import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  ApprovalBreakGlassGranted,
  ApprovalDecisionRecorded,
  ApprovalEscalated,
  ApprovalRequestApproved,
  ApprovalRequestDenied,
  ApprovalReviewOpened,
  ApprovalSelfApprovalBlocked,
  ApprovalTaskOpened,
  CatalogPublished,
  IdentityOffboarded,
  IdentityOwnerChanged,
  IdentityUpserted,
  PolicyDecisionRecorded,
  RequestSubmitted,
  RequestWithdrawn,
  topicOf,
  refOf,
} from '@grantline/contracts';
import type { Envelope, EventRegistry } from '@grantline/contracts';
import { deterministicEventId } from '@grantline/messaging';
import type { MessageBus } from '@grantline/messaging';
import { EVENT_REGISTRY, MESSAGE_BUS, ReplayedStateService } from '@grantline/messaging-nest';
import { decide } from '../domain/approval.decide';
import type { ApprovalCommand, DecideContext, DecideResult } from '../domain/approval.decide';
import { evolve } from '../domain/approval.evolve';
import { initialState } from '../domain/approval.state';
import type { ApprovalTask, RequestApprovalState } from '../domain/approval.state';
import { emptyDirectory, evolveDirectory } from '../domain/directory';
import type { Directory } from '../domain/directory';
import { relationsTo } from '../domain/approval.visibility';
import type { RequestRelation } from '../domain/approval.visibility';
import { awaitsRoute, isKnown, missingForRoute } from '../domain/route-prerequisites';
import type { DirectoryGap } from '../domain/route-prerequisites';
import { APPROVAL_CONFIG } from './approval.config';
import type { ApprovalConfig } from './approval.config';
import { KeyedMutex } from '@grantline/service-kit';

/** Events that carry a request id and shape its approval aggregate. */
const REQUEST_EVENTS = [
  RequestSubmitted,
  RequestWithdrawn,
  PolicyDecisionRecorded,
  ApprovalTaskOpened,
  ApprovalDecisionRecorded,
  ApprovalRequestApproved,
  ApprovalRequestDenied,
  ApprovalEscalated,
  ApprovalSelfApprovalBlocked,
  ApprovalBreakGlassGranted,
  ApprovalReviewOpened,
] as const;
const DIRECTORY_EVENTS = [IdentityUpserted, IdentityOwnerChanged, IdentityOffboarded, CatalogPublished] as const;
const REQUEST_EVENT_TYPES: ReadonlySet<string> = new Set(REQUEST_EVENTS.map((def) => def.type));
const DIRECTORY_EVENT_TYPES: ReadonlySet<string> = new Set(DIRECTORY_EVENTS.map((def) => def.type));

const ROUTE: ApprovalCommand = { kind: 'route' };

/** A request whose route waits for the directory: what it lacks, and the timer that routes it anyway. */
interface Waiting {
  readonly gaps: readonly DirectoryGap[];
  readonly timer: NodeJS.Timeout;
}

const describeGaps = (gaps: readonly DirectoryGap[]): string[] =>
  gaps.map((gap) => (gap.kind === 'identity' ? `identity ${gap.identityId} (${gap.role})` : gap.kind === 'access_package' ? `access package ${gap.accessPackageId}` : `entitlement ${gap.entitlementId}`));

/** What the approval service folds from the log: one aggregate per request, the task index and the directory. */
export class ApprovalLogState {
  directory: Directory = emptyDirectory();
  readonly requests = new Map<string, RequestApprovalState>();
  readonly taskIndex = new Map<string, string>();

  stateOf(requestId: string): RequestApprovalState {
    return this.requests.get(requestId) ?? initialState(requestId);
  }

  /** Any event of the replay: directory events fold into the directory, request events into their request. */
  apply(event: Envelope): void {
    if (DIRECTORY_EVENT_TYPES.has(event.type)) {
      this.directory = evolveDirectory(this.directory, event);
      return;
    }
    const requestId = REQUEST_EVENT_TYPES.has(event.type) ? refOf(event, 'requestId') : undefined;
    if (requestId !== undefined) this.fold(requestId, event);
  }

  fold(requestId: string, event: Envelope): void {
    this.requests.set(requestId, evolve(this.stateOf(requestId), event));
    if (event.type === ApprovalTaskOpened.type) {
      const { taskId } = event.data as { taskId: string };
      this.taskIndex.set(taskId, requestId);
    }
  }
}

/**
 * The approval service's in-memory state: one aggregate per request plus the directory (identities and
 * catalogue), rebuilt at start by replaying the log from the beginning, its own approvals topic included
 * (ReplayedStateService: a failed replay is retried and the state is not ready meanwhile; nothing routes, decides
 * or answers from a partial state).
 *
 * Every change to one request runs under that request's lock: decide on the current state, publish the
 * resulting events (acknowledged by Kafka), then fold them in. A failed publish folds nothing, so a retry
 * decides again on the same state and yields the same events with the same deterministic ids.
 *
 * A route waits while the directory lacks what it would resolve approvers from (missingForRoute): nothing is
 * published, the offset is committed, and the request is routed when a directory event fills the gap, or
 * after `directoryWaitMs` with what is known. The waiting set is not persisted: after the start-up replay,
 * every request that awaits its route is routed or waits again.
 */
@Injectable()
export class ApprovalStateService extends ReplayedStateService<ApprovalLogState> {
  private readonly locks = new KeyedMutex();
  private readonly waiting = new Map<string, Waiting>();
  private closed = false;
  private resumed: Promise<void> | undefined;
  private readonly logger = new Logger('approval');

  constructor(
    // The topics come from the registry, so specs can bind their own.
    @Inject(MESSAGE_BUS) bus: MessageBus,
    @Inject(EVENT_REGISTRY) registry: EventRegistry,
    @Inject(APPROVAL_CONFIG) private readonly config: ApprovalConfig,
  ) {
    const state = new ApprovalLogState();
    super(bus, registry, state, { events: [...REQUEST_EVENTS, ...DIRECTORY_EVENTS], name: 'approval state', logContext: 'approval', describe: () => ({ requests: state.requests.size }) });
  }

  /** After the replay, the routes the previous instance left waiting are resumed once, before any handler goes on. */
  override whenLoaded(): Promise<void> {
    this.resumed ??= super.whenLoaded().then(() => this.resumeRoutes());
    return this.resumed;
  }

  /**
   * Folds an identity or catalogue event into the directory (idempotent: upserts and newest-wins), then routes
   * the waiting requests it may have completed. Resolves once their events are published, so the directory
   * event's offset is committed after them (a failed publish redelivers it, and it routes them again).
   */
  async applyDirectory(event: Envelope): Promise<void> {
    if (!DIRECTORY_EVENT_TYPES.has(event.type)) return;
    await this.whenLoaded();
    this.state.directory = evolveDirectory(this.state.directory, event);
    // A heuristic outside the locks; the route re-checks under the request's lock.
    const ready = [...this.waiting].filter(([, waiting]) => waiting.gaps.some((gap) => isKnown(this.state.directory, gap))).map(([requestId]) => requestId);
    await Promise.all(ready.map((requestId) => this.step(requestId, undefined, ROUTE)));
  }

  /** Folds a request event in and, if given, runs a command on the result: one step under the request's lock. */
  async handle(requestId: string, event: Envelope | undefined, command: ApprovalCommand | undefined): Promise<DecideResult> {
    await this.whenLoaded();
    return this.step(requestId, event, command);
  }

  /** What the request's route still waits for in the directory; undefined when it is not waiting. */
  waitingFor(requestId: string): readonly DirectoryGap[] | undefined {
    return this.waiting.get(requestId)?.gaps;
  }

  /** Requests whose route waits for the directory. */
  get waitingCount(): number {
    return this.waiting.size;
  }

  override async onModuleDestroy(): Promise<void> {
    this.closed = true;
    for (const { timer } of this.waiting.values()) clearTimeout(timer);
    this.waiting.clear();
    await super.onModuleDestroy();
  }

  /** The request a task belongs to, once its task-opened event is known. */
  requestOfTask(taskId: string): string | undefined {
    return this.state.taskIndex.get(taskId);
  }

  stateOf(requestId: string): RequestApprovalState {
    return this.state.stateOf(requestId);
  }

  /** How the identity stands to the request, from the request and the directory folded from the log. */
  relationsTo(requestId: string, identityId: string): ReadonlySet<RequestRelation> {
    return relationsTo(this.stateOf(requestId), this.state.directory, identityId);
  }

  /** Open tasks the identity may decide, oldest due first. */
  openTasksFor(approverId: string): ApprovalTask[] {
    const tasks: ApprovalTask[] = [];
    for (const state of this.state.requests.values()) {
      for (const task of state.tasks) {
        if (task.status === 'open' && task.eligibleApproverIds.includes(approverId)) tasks.push(task);
      }
    }
    return tasks.sort((a, b) => a.dueAt.localeCompare(b.dueAt) || a.taskId.localeCompare(b.taskId));
  }

  /**
   * `force`: route with what the directory knows (the wait is over). Runs the command without waiting for the
   * start-up replay: resumeRoutes(), which whenLoaded() waits for, routes requests through here.
   */
  private step(requestId: string, event: Envelope | undefined, command: ApprovalCommand | undefined, force = false): Promise<DecideResult> {
    return this.locks.run(requestId, async () => {
      if (event) this.state.fold(requestId, event);
      // A withdrawal (or an outcome) ends the wait: there is nothing left to route.
      if (this.waiting.has(requestId) && !awaitsRoute(this.stateOf(requestId))) this.stopWaiting(requestId, []);
      if (!command) return { accepted: true, events: [] };
      const state = this.stateOf(requestId);
      if (command.kind === 'route' && !force && this.config.directoryWaitMs > 0) {
        const gaps = missingForRoute(state, this.state.directory);
        if (gaps.length > 0) {
          this.wait(requestId, gaps);
          return { accepted: true, events: [] };
        }
      }
      const result = decide(command, state, this.context());
      if (result.events.length > 0) {
        await this.publish(result.events);
        for (const produced of result.events) this.state.fold(requestId, produced);
      }
      if (command.kind === 'route') this.stopWaiting(requestId, force ? missingForRoute(state, this.state.directory) : []);
      return result;
    });
  }

  /** Remembers what the route lacks; the first wait starts the timer, later ones only update the gaps. */
  private wait(requestId: string, gaps: readonly DirectoryGap[], afterMs = this.config.directoryWaitMs): void {
    if (this.closed) return;
    const known = this.waiting.get(requestId);
    if (known) {
      this.waiting.set(requestId, { ...known, gaps });
      return;
    }
    const timer = setTimeout(() => this.routeAnyway(requestId), afterMs);
    // The consumer keeps the process alive; a pending wait alone must not.
    timer.unref();
    this.waiting.set(requestId, { gaps, timer });
    this.logger.log({ msg: 'route waits for the directory', requestId, missing: describeGaps(gaps), waitMs: afterMs });
  }

  private stopWaiting(requestId: string, stillMissing: readonly DirectoryGap[]): void {
    const known = this.waiting.get(requestId);
    if (!known) return;
    clearTimeout(known.timer);
    this.waiting.delete(requestId);
    if (stillMissing.length > 0) {
      this.logger.warn({ msg: 'routed without what the directory still lacks', requestId, missing: describeGaps(stillMissing) });
    }
  }

  /** The wait is over: route with what is known; if publishing fails, try again after another wait. */
  private routeAnyway(requestId: string): void {
    if (this.closed) return;
    this.step(requestId, undefined, ROUTE, true).catch((error: unknown) => {
      this.logger.warn({ msg: 'routing after the directory wait failed; retrying later', requestId, error: String(error) });
      const known = this.waiting.get(requestId);
      if (!known) return;
      this.waiting.delete(requestId);
      this.wait(requestId, known.gaps);
    });
  }

  private context(): DecideContext {
    return { directory: this.state.directory, policy: this.config.policy, registry: this.registry, eventId: deterministicEventId };
  }

  private async publish(events: readonly Envelope[]): Promise<void> {
    const byTopic = new Map<string, Envelope[]>();
    for (const event of events) {
      const topic = topicOf(this.registry.definitionOf(event.type), event.data);
      byTopic.set(topic, [...(byTopic.get(topic) ?? []), event]);
    }
    for (const [topic, batch] of byTopic) await this.bus.publisher.publish(topic, batch);
  }

  /**
   * Requests with a decision but no route and no outcome: their route was waiting when the previous instance
   * stopped (the waiting set lives in memory, and the decision's offset was committed), or it crashed before
   * publishing. Route them now, or wait again; route's deterministic event ids make a repeat harmless.
   */
  private async resumeRoutes(): Promise<void> {
    const unrouted = [...this.state.requests.values()].filter(awaitsRoute).map((state) => state.requestId);
    for (const requestId of unrouted) {
      await this.step(requestId, undefined, ROUTE).catch((error: unknown) => {
        this.logger.warn({ msg: 'resuming a route after the replay failed; retrying after the directory wait', requestId, error: String(error) });
        this.wait(requestId, missingForRoute(this.stateOf(requestId), this.state.directory), Math.max(this.config.directoryWaitMs, 1000));
      });
    }
    if (unrouted.length > 0) this.logger.log({ msg: 'resumed routes after the replay', requests: unrouted.length, waiting: this.waiting.size });
  }
}
