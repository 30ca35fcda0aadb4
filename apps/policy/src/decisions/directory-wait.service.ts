import { Inject, Injectable, Logger } from '@nestjs/common';
import type { OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { PolicyDecisionRecorded, RequestSubmitted, isEvent, topicOf } from '@grantline/contracts';
import type { DecisionRecordedData, Envelope, EventRegistry, RequestSubmittedData } from '@grantline/contracts';
import type { MessageBus } from '@grantline/messaging';
import { EVENT_REGISTRY, MESSAGE_BUS } from '@grantline/messaging-nest';
import type { Bundle } from '@grantline/policy-engine';
import { decideOrWait } from './decide-or-wait';
import { POLICY_BUNDLE } from './policy-bundle.provider';
import { POLICY_CONFIG } from './policy.config';
import type { PolicyConfig } from './policy.config';
import { PolicyStateService } from './policy-state.service';

/** Where the wait's timers come from; specs pass a hand-driven one. A callback never rejects. */
export interface WaitTimers {
  set(callback: () => Promise<void>, ms: number): unknown;
  clear(handle: unknown): void;
}
export const WAIT_TIMERS = Symbol('WAIT_TIMERS');
export const systemTimers: WaitTimers = {
  set: (callback, ms) => setTimeout(() => void callback(), ms),
  clear: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** How long a failed publication of a decision waits before it is tried again. */
const REPUBLISH_DELAY_MS = 1_000;

interface Parked {
  readonly event: Envelope<RequestSubmittedData>;
  unresolved: readonly string[];
  timer: unknown;
}

/**
 * "Wait until known, then decide". Kafka orders events only within a partition, so a request can reach
 * the policy service before the upsert of its subject or the catalogue entry it names, although intake
 * published those first. Such a request is parked instead of refused; each state event re-checks the
 * parked requests, and one that became decidable is decided and published. After `POLICY_DIRECTORY_WAIT_MS`
 * it is decided with what is known (the refusal naming the unknown). Every decision comes from
 * `decideOrWait`, so its id is the same whichever path takes it.
 *
 * Parked requests live in memory: their offsets are committed once parked. At start the requests and
 * decisions topics are replayed, and every request without a recorded decision is considered again.
 */
@Injectable()
export class DirectoryWaitService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly parked = new Map<string, Parked>();
  private stopped = false;
  private readonly logger = new Logger('policy');

  constructor(
    private readonly stateService: PolicyStateService,
    @Inject(POLICY_BUNDLE) private readonly bundle: Bundle,
    @Inject(EVENT_REGISTRY) private readonly registry: EventRegistry,
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
    @Inject(POLICY_CONFIG) private readonly config: PolicyConfig,
    @Inject(WAIT_TIMERS) private readonly timers: WaitTimers,
  ) {}

  /** Request event ids parked now, with what each waits for. */
  waiting(): ReadonlyMap<string, readonly string[]> {
    return new Map([...this.parked].map(([id, entry]) => [id, entry.unresolved]));
  }

  /**
   * A submitted request, live from the consumer: its decision to publish, or nothing when it is parked
   * (it is then published by this service once decidable or once the wait is over).
   */
  async consider(event: Envelope<RequestSubmittedData>): Promise<Envelope<DecisionRecordedData>[]> {
    const receivedAt = Date.now();
    await this.stateService.whenLoaded();
    const first = this.outcome(event, false);
    if (first.kind === 'decided') return [first.decision];
    // The live consumer may simply not have reached an event published before this request: read up to the end once.
    await this.stateService.catchUp(receivedAt);
    const waitedOut = this.config.directoryWaitMs === 0 || this.stopped;
    const second = this.outcome(event, waitedOut);
    if (second.kind === 'decided') {
      this.unpark(event.id);
      return [second.decision];
    }
    this.park(event, second.unresolved);
    return [];
  }

  /** After a state event: decides and publishes every parked request that became decidable. */
  async recheck(): Promise<void> {
    for (const [id, entry] of [...this.parked]) {
      const outcome = this.outcome(entry.event, false);
      if (outcome.kind === 'waiting') {
        entry.unresolved = outcome.unresolved;
        continue;
      }
      if (this.parked.get(id) !== entry) continue; // decided meanwhile by another caller
      this.unpark(id);
      await this.publishOrRetry(entry.event, outcome.decision);
    }
  }

  /**
   * Considers again every request on the log without a recorded decision (parked when the service
   * stopped, or not consumed yet): decided now and published, or parked again.
   */
  async resumeUndecided(): Promise<number> {
    await this.stateService.whenLoaded();
    const requests = new Map<string, Envelope<RequestSubmittedData>>();
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
          onInvalid: (error, origin) => this.logger.warn('skipping an undecodable record while looking for undecided requests', { ...origin, error: String(error) }),
        })
        .catch((error: unknown) => this.logger.warn('cannot replay topic to find undecided requests', { topic, error: String(error) }));
    }
    let resumed = 0;
    for (const [id, event] of requests) {
      if (decided.has(id) || this.parked.has(id) || this.stopped) continue;
      resumed += 1;
      const outcome = this.outcome(event, false);
      if (outcome.kind === 'waiting') this.park(event, outcome.unresolved);
      else await this.publishOrRetry(event, outcome.decision);
    }
    if (resumed > 0) this.logger.log({ msg: 'undecided requests considered again', count: resumed, parked: this.parked.size });
    return resumed;
  }

  onApplicationBootstrap(): void {
    // Not awaited: the start-up must not wait on reading two topics; failures are logged, and each request stays on the log.
    void this.resumeUndecided().catch((error: unknown) => this.logger.error('resuming undecided requests failed', { error: String(error) }));
  }

  onApplicationShutdown(): void {
    this.stopped = true;
    for (const entry of this.parked.values()) this.timers.clear(entry.timer);
    // Nothing is lost: a parked request has no decision on the log, so the next start considers it again.
    this.parked.clear();
  }

  private outcome(event: Envelope<RequestSubmittedData>, waitedOut: boolean): ReturnType<typeof decideOrWait> {
    return decideOrWait(event, this.stateService.state, this.bundle, this.registry, { waitedOut });
  }

  private park(event: Envelope<RequestSubmittedData>, unresolved: readonly string[]): void {
    const existing = this.parked.get(event.id);
    if (existing) {
      // A redelivery keeps the first deadline.
      existing.unresolved = unresolved;
      return;
    }
    if (this.stopped) return;
    const entry: Parked = { event, unresolved, timer: undefined };
    entry.timer = this.timers.set(() => this.waitOver(event.id), this.config.directoryWaitMs);
    this.parked.set(event.id, entry);
    this.logger.log({ msg: 'request waits for the directory', requestId: event.data.requestId, waitingFor: unresolved, ms: this.config.directoryWaitMs });
  }

  private unpark(id: string): void {
    const entry = this.parked.get(id);
    if (!entry) return;
    this.timers.clear(entry.timer);
    this.parked.delete(id);
  }

  /** The wait is over: read the state topics once more, then decide with what is known. Never rejects. */
  private async waitOver(id: string): Promise<void> {
    try {
      await this.decideWaitedOut(id);
    } catch (error) {
      this.logger.error('deciding a request after its wait failed; the next start considers it again', { error: String(error) });
    }
  }

  private async decideWaitedOut(id: string): Promise<void> {
    const entry = this.parked.get(id);
    if (!entry || this.stopped) return;
    try {
      await this.stateService.catchUp(Date.now());
    } catch (error) {
      this.logger.warn('catching up before a timed-out request failed; deciding with the state held', { error: String(error) });
    }
    if (this.parked.get(id) !== entry) return;
    this.unpark(id);
    const outcome = this.outcome(entry.event, true);
    if (outcome.kind === 'decided') await this.publishOrRetry(entry.event, outcome.decision);
  }

  private async publishOrRetry(event: Envelope<RequestSubmittedData>, decision: Envelope<DecisionRecordedData>): Promise<void> {
    try {
      await this.bus.publisher.publish(topicOf(this.registry.definitionOf(decision.type), decision.data), [decision]);
    } catch (error) {
      if (this.stopped) return;
      this.logger.warn('publishing a decision failed; trying again', { requestId: event.data.requestId, error: String(error) });
      const entry: Parked = { event, unresolved: [], timer: undefined };
      // Re-parked with a short timer: the next attempt re-decides (same id) and publishes.
      entry.timer = this.timers.set(() => this.waitOver(event.id), REPUBLISH_DELAY_MS);
      this.parked.set(event.id, entry);
    }
  }
}
