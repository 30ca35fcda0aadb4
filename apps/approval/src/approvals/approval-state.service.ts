import { Inject, Injectable } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import {
  ApprovalBreakGlassGranted,
  ApprovalDecisionRecorded,
  ApprovalEscalated,
  ApprovalRequestApproved,
  ApprovalRequestDenied,
  ApprovalReviewCompleted,
  ApprovalReviewEscalated,
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
  isEvent,
  topicOf,
  refOf,
} from '@grantline/contracts';
import type { Envelope, EventRegistry } from '@grantline/contracts';
import { deterministicEventId } from '@grantline/messaging';
import type { MessageBus } from '@grantline/messaging';
import { EVENT_REGISTRY, MESSAGE_BUS, ReplayedStateService } from '@grantline/messaging-nest';
import { KeyedMutex, OnceUntilFailure } from '@grantline/service-kit';
import { evolve } from '../domain/approval.evolve';
import { makeApprovalDecider } from '../domain/approval.decide';
import type { ApprovalDecider } from '../domain/approval.decide';
import { initialState } from '../domain/approval.state';
import type { ApprovalTask, RequestApprovalState } from '../domain/approval.state';
import { emptyDirectory, evolveDirectory } from '../domain/directory';
import type { Directory } from '../domain/directory';
import { relationsTo } from '../domain/approval.visibility';
import type { RequestRelation } from '../domain/approval.visibility';
import { awaitsRoute } from '../domain/route-prerequisites';
import { InboxIndex } from '../domain/inbox.view';
import { ReviewBook } from '../domain/review-book';
import { makeReviewDecider } from '../domain/review.decide';
import type { ReviewDecider } from '../domain/review.decide';
import { APPROVAL_CONFIG } from './approval.config';
import type { ApprovalConfig } from './approval.config';
import { ResumeRoutes } from './approval-commands';

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
  ApprovalReviewCompleted,
  ApprovalReviewEscalated,
] as const;
const DIRECTORY_EVENTS = [IdentityUpserted, IdentityOwnerChanged, IdentityOffboarded, CatalogPublished] as const;
const REQUEST_EVENT_TYPES: ReadonlySet<string> = new Set(REQUEST_EVENTS.map((def) => def.type));
const DIRECTORY_EVENT_TYPES: ReadonlySet<string> = new Set(DIRECTORY_EVENTS.map((def) => def.type));

/** What the approval service folds from the log: one aggregate per request, the task index and the directory. */
export class ApprovalLogState {
  directory: Directory = emptyDirectory();
  readonly requests = new Map<string, RequestApprovalState>();
  readonly taskIndex = new Map<string, string>();
  /** Break-glass post-incident reviews, one per break-glass request. */
  readonly reviews = new ReviewBook();
  /** What the approver's inbox shows beyond the aggregate: the submission and how each request ended. */
  readonly inbox = new InboxIndex();

  stateOf(requestId: string): RequestApprovalState {
    return this.requests.get(requestId) ?? initialState();
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
    if (isEvent(event, ApprovalTaskOpened)) this.taskIndex.set(event.data.taskId, requestId);
    this.reviews.fold(requestId, event);
    this.inbox.fold(requestId, event);
  }
}

/**
 * The approval service's in-memory state: one aggregate per request plus the directory (identities and
 * catalogue), rebuilt at start by replaying the log from the beginning, its own approvals topic included
 * (ReplayedStateService: a failed replay is retried and the state is not ready meanwhile; nothing routes, decides
 * or answers from a partial state). The command handlers change it, one request at a time (`exclusive`): decide on
 * the current state, publish (acknowledged by Kafka), then fold. A failed publish folds nothing, so a retry decides
 * again on the same state and yields the same events with the same deterministic ids.
 */
@Injectable()
export class ApprovalStateService extends ReplayedStateService<ApprovalLogState> {
  private readonly locks = new KeyedMutex();
  private readonly resumed = new OnceUntilFailure<void>();

  constructor(
    // The topics come from the registry, so specs can bind their own.
    @Inject(MESSAGE_BUS) bus: MessageBus,
    @Inject(EVENT_REGISTRY) registry: EventRegistry,
    @Inject(APPROVAL_CONFIG) private readonly config: ApprovalConfig,
    private readonly commands: CommandBus,
  ) {
    const state = new ApprovalLogState();
    super(bus, registry, state, {
      events: [...REQUEST_EVENTS, ...DIRECTORY_EVENTS],
      name: 'approval state',
      logContext: 'approval',
      describe: () => ({ requests: state.requests.size }),
    });
  }

  /**
   * Once the replay is done, the routes the previous instance left waiting are resumed once, before any handler goes
   * on: every edge waits for this before it dispatches a command.
   */
  override whenLoaded(): Promise<void> {
    // A handler or an HTTP edge can ask before CqrsModule has registered the handlers at start: a failure is retried.
    return this.resumed.run(() => super.whenLoaded().then(() => this.commands.execute(new ResumeRoutes())));
  }

  /** Runs `work` for one request at a time: HTTP answers race each other and the consumers on the same request. */
  exclusive<T>(requestId: string, work: () => Promise<T>): Promise<T> {
    return this.locks.run(requestId, work);
  }

  /** The decider over the directory as folded now (it changes with every identity and catalogue event). */
  decider(): ApprovalDecider {
    return makeApprovalDecider({ directory: this.state.directory, policy: this.config.policy, registry: this.registry, eventId: deterministicEventId });
  }

  /** The break-glass review decider over the directory as folded now. */
  reviewDecider(): ReviewDecider {
    return makeReviewDecider({ directory: this.state.directory, policy: this.config.policy, registry: this.registry, eventId: deterministicEventId });
  }

  get reviews(): ReviewBook {
    return this.state.reviews;
  }

  get inbox(): InboxIndex {
    return this.state.inbox;
  }

  /** Publishes decided events (acks=all), then folds them into the request: the state moves only once Kafka has them. */
  async commit(requestId: string, events: readonly Envelope[]): Promise<void> {
    if (events.length === 0) return;
    const byTopic = new Map<string, Envelope[]>();
    for (const event of events) {
      const topic = topicOf(this.registry.definitionOf(event.type), event.data);
      byTopic.set(topic, [...(byTopic.get(topic) ?? []), event]);
    }
    for (const [topic, batch] of byTopic) await this.bus.publisher.publish(topic, batch);
    for (const event of events) this.state.fold(requestId, event);
  }

  /** Folds a fact about a request from another service's topic (idempotent: evolve skips an event it has seen). */
  fold(requestId: string, fact: Envelope): void {
    this.state.fold(requestId, fact);
  }

  /** Folds an identity or catalogue event into the directory (idempotent: upserts and newest-wins). */
  applyDirectory(fact: Envelope): void {
    if (DIRECTORY_EVENT_TYPES.has(fact.type)) this.state.directory = evolveDirectory(this.state.directory, fact);
  }

  get directory(): Directory {
    return this.state.directory;
  }

  /** The request a task belongs to, once its task-opened event is known. */
  requestOfTask(taskId: string): string | undefined {
    return this.state.taskIndex.get(taskId);
  }

  stateOf(requestId: string): RequestApprovalState {
    return this.state.stateOf(requestId);
  }

  /** Requests with a decision but no route and no outcome yet. */
  unrouted(): string[] {
    return [...this.state.requests].filter(([, state]) => awaitsRoute(state)).map(([requestId]) => requestId);
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
}
