import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import type { OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { PolicyDecisionRecorded, RequestSubmitted, isEvent, topicOf } from '@grantline/contracts';
import type { Envelope, EventRegistry, RequestSubmittedData } from '@grantline/contracts';
import type { MessageBus } from '@grantline/messaging';
import { EVENT_REGISTRY, MESSAGE_BUS } from '@grantline/messaging-nest';
import { BoundedWait } from '@grantline/service-kit';
import type { WaitTimers } from '@grantline/service-kit';
import { awaitedBy } from '../domain';
import type { DecisionRecorded, PolicyDecider } from '../domain';
import { POLICY_DECIDER } from './policy-decider.provider';
import { POLICY_CONFIG } from './policy.config';
import type { PolicyConfig } from './policy.config';
import { PolicyStateService } from './policy-state.service';

/** The wait's timers, when not the system's: specs fire them by hand. */
export const WAIT_TIMERS = Symbol('WAIT_TIMERS');

/** How long a failed publication of a decision waits before it is tried again. */
const REPUBLISH_DELAY_MS = 1_000;

type SubmittedRequest = Envelope<RequestSubmittedData>;

/**
 * "Wait until known, then decide", on the service kit's BoundedWait. A request that names an identity or catalogue
 * entry not consumed yet is parked instead of refused (`DecideRequestHandler`); each state event re-checks the parked
 * requests, and one that became decidable is decided and published. After `POLICY_DIRECTORY_WAIT_MS` the state topics
 * are read once more and the request is decided with what is known (the refusal naming the unknown). Every decision
 * comes from the one decider, so its id is the same whichever path takes it.
 *
 * Parked requests live in memory: their offsets are committed once parked. At start the requests and decisions
 * topics are replayed, and every request without a recorded decision is considered again.
 */
@Injectable()
export class DirectoryWaitService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly wait: BoundedWait<string>;
  /** The parked requests themselves, by request event id: the wait holds only what each awaits. */
  private readonly parked = new Map<string, SubmittedRequest>();
  private stopped = false;
  private resuming: Promise<number> | undefined;
  private readonly logger = new Logger('policy');

  constructor(
    private readonly stateService: PolicyStateService,
    @Inject(POLICY_DECIDER) private readonly decider: PolicyDecider,
    @Inject(EVENT_REGISTRY) private readonly registry: EventRegistry,
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
    @Inject(POLICY_CONFIG) private readonly config: PolicyConfig,
    @Optional() @Inject(WAIT_TIMERS) timers?: WaitTimers,
  ) {
    this.wait = new BoundedWait<string>({
      waitMs: config.directoryWaitMs,
      retryMs: REPUBLISH_DELAY_MS,
      ...(timers ? { timers } : {}),
      onWaitOver: (id) => this.decideWaitedOut(id),
      onRetry: (id, error) =>
        this.logger.warn('deciding or publishing a request after its wait failed; trying again', { requestEventId: id, error: String(error) }),
    });
  }

  /** Request event ids parked now, with what each waits for. */
  waiting(): ReadonlyMap<string, readonly string[]> {
    return this.wait.waiting();
  }

  /** False when requests are decided with what is known at once: no wait configured, or the service is stopping. */
  get waits(): boolean {
    return this.config.directoryWaitMs > 0 && !this.stopped;
  }

  /** Parks a request until what it awaits arrives or the wait is over; false when the service is stopping. */
  park(request: SubmittedRequest, awaited: readonly string[]): boolean {
    const first = !this.wait.has(request.id);
    if (!this.hold(request, awaited)) return false;
    if (first)
      this.logger.log({ msg: 'request waits for the directory', requestId: request.data.requestId, waitingFor: awaited, ms: this.config.directoryWaitMs });
    return true;
  }

  /** The request was decided on another path (a redelivery that became decidable). */
  release(id: string): void {
    this.wait.release(id);
    this.parked.delete(id);
  }

  /** After a state event: decides and publishes every parked request that became decidable. */
  async recheck(): Promise<void> {
    for (const id of this.wait.waiting().keys()) {
      const request = this.parked.get(id);
      // Decided meanwhile by another path.
      if (request === undefined || !this.wait.has(id)) continue;
      const command = { request, waitedOut: false };
      const decisions = this.decider.decide(command, this.stateService.current);
      if (decisions.length === 0) {
        this.wait.park(id, awaitedBy(command, this.stateService.current));
        continue;
      }
      this.release(id);
      await this.publishOrRetry(request, decisions);
    }
  }

  /**
   * Considers again every request on the log without a recorded decision (parked when the service stopped, or not
   * consumed yet): decided now and published, or parked again. Once per start, whoever asks.
   */
  resumeUndecided(): Promise<number> {
    this.resuming ??= this.resume();
    return this.resuming;
  }

  onApplicationBootstrap(): void {
    // Not awaited: the start-up must not wait on reading two topics; failures are logged, and each request stays on the log.
    void this.resumeUndecided().catch((error: unknown) => this.logger.error('resuming undecided requests failed', { error: String(error) }));
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    // Nothing is lost: a parked request has no decision on the log, so the next start considers it again.
    this.wait.stop();
    this.parked.clear();
  }

  private hold(request: SubmittedRequest, awaited: readonly string[], afterMs?: number): boolean {
    if (!this.wait.park(request.id, awaited, afterMs)) return false;
    this.parked.set(request.id, request);
    return true;
  }

  private async resume(): Promise<number> {
    await this.stateService.whenLoaded();
    const requests = new Map<string, SubmittedRequest>();
    const decided = new Set<string>();
    const topics = [RequestSubmitted, PolicyDecisionRecorded].map((def) => this.registry.latestOf(def.name).topic);
    for (const topic of topics) {
      await this.bus
        .replay({
          topics: [topic],
          handler: async (event) => {
            if (isEvent(event, RequestSubmitted)) requests.set(event.id, event);
            else if (isEvent(event, PolicyDecisionRecorded) && event.causationid !== undefined) decided.add(event.causationid);
          },
          onInvalid: (error, origin) =>
            this.logger.warn('skipping an undecodable record while looking for undecided requests', { ...origin, error: String(error) }),
        })
        .catch((error: unknown) => this.logger.warn('cannot replay topic to find undecided requests', { topic, error: String(error) }));
    }
    let resumed = 0;
    for (const [id, request] of requests) {
      if (decided.has(id) || this.wait.has(id) || this.stopped) continue;
      resumed += 1;
      const command = { request, waitedOut: false };
      const decisions = this.decider.decide(command, this.stateService.current);
      if (decisions.length === 0) this.park(request, awaitedBy(command, this.stateService.current));
      else await this.publishOrRetry(request, decisions);
    }
    if (resumed > 0) this.logger.log({ msg: 'undecided requests considered again', count: resumed, parked: this.wait.size });
    return resumed;
  }

  /** The wait is over: read the state topics once more, then decide with what is known. A failure is retried by the wait. */
  private async decideWaitedOut(id: string): Promise<void> {
    const request = this.parked.get(id);
    if (request === undefined) return;
    try {
      await this.stateService.catchUp(this.stateService.catchUpMark());
    } catch (error) {
      this.logger.warn('catching up before a timed-out request failed; deciding with the state held', { error: String(error) });
    }
    await this.publish(this.decider.decide({ request, waitedOut: true }, this.stateService.current));
    // A redelivery may have parked it again meanwhile: it is decided now.
    this.release(id);
  }

  private async publishOrRetry(request: SubmittedRequest, decisions: readonly DecisionRecorded[]): Promise<void> {
    try {
      await this.publish(decisions);
    } catch (error) {
      // Parked again with a short wait: once it is over the request is decided again (same id) and published.
      if (this.hold(request, [], REPUBLISH_DELAY_MS)) {
        this.logger.warn('publishing a decision failed; trying again', { requestId: request.data.requestId, error: String(error) });
      }
    }
  }

  private async publish(decisions: readonly DecisionRecorded[]): Promise<void> {
    for (const decision of decisions) await this.bus.publisher.publish(topicOf(this.registry.definitionOf(decision.type), decision.data), [decision]);
  }
}
