import { Inject, Injectable, Logger } from '@nestjs/common';
import { CatalogPublished, IdentityOffboarded, IdentityOwnerChanged, IdentityUpserted, PolicyBundleLoaded } from '@grantline/contracts';
import type { Envelope, EventRegistry } from '@grantline/contracts';
import { RetriableError, describeError } from '@grantline/messaging';
import type { FreshnessMark, LogPosition, MessageBus } from '@grantline/messaging';
import { EVENT_REGISTRY, MESSAGE_BUS, ReplayedStateService } from '@grantline/messaging-nest';
import { BREAK_GLASS_REVIEW_EVENTS, REVIEW_REEVALUATION_EVENTS, SOD_FACT_EVENTS, STATE_EVENTS } from '../domain';
import type { PolicyState, ReviewReevaluationFacts, SodFacts } from '../domain';
import { FoldedPolicyState } from './folded-policy-state';
import { policyStateCodec } from './folded-policy-state.codec';

export { FoldedPolicyState } from './folded-policy-state';

/**
 * The facts every request is decided on that other services publish: identities and the catalogue. The post-incident
 * reviews on the approvals topic are fenced beside them for the requests whose decision reads them (break-glass ones,
 * with the shipped bundle: see `readsBreakGlassReviewsBeyondBreakGlass`), so a review opened or completed a moment
 * before such a request is seen.
 */
const FENCED_FACTS = [IdentityUpserted, IdentityOwnerChanged, IdentityOffboarded, CatalogPublished];

/**
 * Holds the policy state and rebuilds it by replaying its topics from the beginning once per start
 * (ReplayedStateService: a failed replay is retried with backoff and the state is not ready meanwhile); the same
 * replay lists the bundle digests already announced. A start restores the newest snapshot first when the kit keeps
 * them (`policyStateCodec`, ADR 0037), and replays only the log after it. Request handling waits for it, because the
 * transport may start consuming before Nest's bootstrap hooks run, and no request may be decided on a partial state.
 */
@Injectable()
export class PolicyStateService extends ReplayedStateService<FoldedPolicyState> {
  /**
   * Catch-ups are numbered as they start; a request remembers the number reached when it was received. Numbers, not
   * clock readings: "started after" must be exact, and the service's clock may be a fixed one.
   */
  private catchUpsStarted = 0;
  /** The catch-up replay running now. */
  private catchingUp: { readonly number: number; readonly done: Promise<void> } | undefined;
  /** The latest catch-up that succeeded: everything published before it started is applied. */
  private covered = 0;
  private readonly logger = new Logger('policy');

  constructor(@Inject(MESSAGE_BUS) bus: MessageBus, @Inject(EVENT_REGISTRY) registry: EventRegistry) {
    const state = new FoldedPolicyState();
    super(bus, registry, state, {
      events: [...new Set([...STATE_EVENTS, ...SOD_FACT_EVENTS]), ...REVIEW_REEVALUATION_EVENTS, PolicyBundleLoaded],
      name: 'policy state',
      logContext: 'policy',
      describe: () => ({ catalogVersion: state.current.catalog?.version ?? null }),
      snapshot: policyStateCodec,
    });
  }

  get current(): PolicyState {
    return this.state.current;
  }

  get sodFacts(): SodFacts {
    return this.state.sod;
  }

  get recordedDecisions(): ReviewReevaluationFacts {
    return this.state.recorded;
  }

  /** Taken when a request is received: `catchUp(mark)` then covers everything published before it. */
  catchUpMark(): number {
    return this.catchUpsStarted;
  }

  /**
   * Reads the state topics again up to their current end. A request may name an identity or a catalogue
   * entry published just before it on another topic that the live consumer has not reached yet; after
   * this, everything published before the request was received is applied. Concurrent callers share one
   * replay, and one that started after `mark` already covers the caller. A replay that fails is the
   * caller's failure (retriable), never a decision on a state known to be behind.
   */
  async catchUp(mark: number): Promise<void> {
    await this.whenLoaded();
    for (;;) {
      if (this.covered > mark) return;
      const running = this.catchingUp;
      if (running === undefined) {
        const number = ++this.catchUpsStarted;
        const done = this.replayState()
          .then(() => {
            this.covered = Math.max(this.covered, number);
          })
          .finally(() => {
            this.catchingUp = undefined;
          });
        this.catchingUp = { number, done };
        continue;
      }
      if (running.number > mark) {
        // It covers this caller: its failure is this caller's too.
        await running.done;
        return;
      }
      await running.done.catch(() => undefined);
    }
  }

  /**
   * Resolves once every identity and catalogue fact published before the request was received (`freshnessMark`) is
   * folded: e.g. HR suspended the subject, or the on-call system set a flag, a moment before the request was
   * submitted, and the live consumer has not delivered it yet. A known identity is no exception: a stale record of
   * it is as wrong to decide on as a missing one.
   */
  ensureFreshFacts(mark: FreshnessMark, { breakGlassReviews }: { readonly breakGlassReviews: boolean }): Promise<void> {
    // The approvals log moves with every request: read again only for a decision that reads the open reviews on it.
    return this.ensureFresh(mark, this.topicsOf(breakGlassReviews ? [...FENCED_FACTS, ...BREAK_GLASS_REVIEW_EVENTS] : FENCED_FACTS));
  }

  /** Digests (bare hex) already on the bundles topic when the service started. */
  hasAnnounced(digestHex: string): boolean {
    return this.state.announcedDigests.has(digestHex);
  }

  /** Folds an event of the replay, a catch-up or the service's own announcement (which has no position). */
  apply(event: Envelope, position?: LogPosition): void {
    this.state.apply(event, position);
  }

  private async replayState(): Promise<void> {
    const onInvalid = (error: unknown, origin: LogPosition): void =>
      this.logger.warn('skipping an undecodable record while catching up policy state', { ...origin, error: String(error) });
    try {
      // The start-up replay created the topics; the state skips what it applied already (offsets per partition).
      // Policy's own decisions are not read again: a request waits for other services' facts, never for those.
      await this.bus.replay({
        topics: this.topicsOf([...STATE_EVENTS, ...SOD_FACT_EVENTS]),
        handler: async (event, position) => this.apply(event, position),
        onInvalid,
      });
    } catch (error) {
      throw new RetriableError(`policy state could not catch up: ${describeError(error)}`, { cause: error });
    }
  }
}
