import { Inject, Injectable } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { topicOf } from '@grantline/contracts';
import type { Envelope, EventRegistry } from '@grantline/contracts';
import { deterministicEventId } from '@grantline/messaging';
import type { MessageBus } from '@grantline/messaging';
import { EVENT_REGISTRY, MESSAGE_BUS, ReplayedStateService } from '@grantline/messaging-nest';
import { KeyedMutex, OnceUntilFailure } from '@grantline/service-kit';
import { makeApprovalDecider } from '../domain/approval.decide';
import type { ApprovalDecider } from '../domain/approval.decide';
import type { ApprovalTask, RequestApprovalState } from '../domain/approval.state';
import { evolveDirectory } from '../domain/directory';
import type { Directory } from '../domain/directory';
import { relationsTo } from '../domain/approval.visibility';
import type { RequestRelation } from '../domain/approval.visibility';
import { awaitsRoute } from '../domain/route-prerequisites';
import type { InboxIndex } from '../domain/inbox.view';
import type { ReviewBook } from '../domain/review-book';
import { makeReviewDecider } from '../domain/review.decide';
import type { ReviewDecider } from '../domain/review.decide';
import { APPROVAL_CONFIG } from './approval.config';
import type { ApprovalConfig } from './approval.config';
import { ResumeRoutes } from './approval-commands';
import { ApprovalLogState, DIRECTORY_EVENTS, DIRECTORY_EVENT_TYPES, REQUEST_EVENTS } from './approval-log-state';
import { approvalStateCodec } from './approval-log-state.codec';

/**
 * The approval service's in-memory state: one aggregate per request plus the directory (identities and
 * catalogue), rebuilt at start by replaying the log from the beginning, its own approvals topic included
 * (ReplayedStateService: a failed replay is retried and the state is not ready meanwhile; nothing routes, decides
 * or answers from a partial state), or from its newest snapshot and the log after it (`approvalStateCodec`, ADR
 * 0037). The command handlers change it, one request at a time (`exclusive`): decide on the current state, publish
 * (acknowledged by Kafka), then fold. A failed publish folds nothing, so a retry decides again on the same state and
 * yields the same events with the same deterministic ids.
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
      snapshot: approvalStateCodec,
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
