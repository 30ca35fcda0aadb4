import { Inject, Injectable, Logger } from '@nestjs/common';
import {
  CatalogPublished,
  GrantActivated,
  GrantCreated,
  GrantProvisioningFailed,
  GrantRevoked,
  IdentityOffboarded,
  IdentityOwnerChanged,
  IdentityUpserted,
  PolicyBundleLoaded,
  isEvent,
} from '@grantline/contracts';
import type { Envelope, EventRegistry } from '@grantline/contracts';
import { RetriableError, describeError } from '@grantline/messaging';
import type { MessageBus } from '@grantline/messaging';
import { EVENT_REGISTRY, MESSAGE_BUS, ReplayedStateService } from '@grantline/messaging-nest';
import { PolicyState } from './policy-state';
import type { LogPosition } from './policy-state';

/** Every event type the state is built from; their topics come from the registry, so specs can use their own. */
export const STATE_EVENTS = [
  IdentityUpserted,
  IdentityOwnerChanged,
  IdentityOffboarded,
  CatalogPublished,
  GrantCreated,
  GrantActivated,
  GrantRevoked,
  GrantProvisioningFailed,
] as const;

/**
 * Holds the policy state and rebuilds it by replaying its topics from the beginning once per start
 * (ReplayedStateService: a failed replay is retried with backoff and the state is not ready meanwhile); the same
 * replay lists the bundle digests already announced. Request handling waits for it, because the transport may
 * start consuming before Nest's bootstrap hooks run, and no request may be decided on a partial state.
 */
@Injectable()
export class PolicyStateService extends ReplayedStateService<PolicyState> {
  private readonly announcedDigests = new Set<string>();
  /** The catch-up replay running now, and when it started. */
  private catchingUp: { readonly startedAt: number; readonly done: Promise<void> } | undefined;
  /** When the last catch-up that succeeded started: everything published before then is applied. */
  private coveredFrom = 0;
  private readonly logger = new Logger('policy');

  constructor(@Inject(MESSAGE_BUS) bus: MessageBus, @Inject(EVENT_REGISTRY) registry: EventRegistry) {
    const state = new PolicyState();
    super(bus, registry, state, {
      events: [...STATE_EVENTS, PolicyBundleLoaded],
      name: 'policy state',
      logContext: 'policy',
      describe: () => ({ catalogVersion: state.catalog?.version ?? null }),
    });
  }

  /**
   * Reads the state topics again up to their current end. A request may name an identity or a catalogue
   * entry published just before it on another topic that the live consumer has not reached yet; after
   * this, everything published before the request was received is applied. Concurrent callers share one
   * replay, and one that started after `receivedAt` already covers the caller. A replay that fails is the
   * caller's failure (retriable), never a decision on a state known to be behind.
   */
  async catchUp(receivedAt: number): Promise<void> {
    await this.whenLoaded();
    for (;;) {
      if (this.coveredFrom >= receivedAt) return;
      const running = this.catchingUp;
      if (running === undefined) {
        const startedAt = Date.now();
        const done = this.replayState()
          .then(() => {
            this.coveredFrom = Math.max(this.coveredFrom, startedAt);
          })
          .finally(() => {
            this.catchingUp = undefined;
          });
        this.catchingUp = { startedAt, done };
        continue;
      }
      if (running.startedAt >= receivedAt) {
        // It covers this caller: its failure is this caller's too.
        await running.done;
        return;
      }
      await running.done.catch(() => undefined);
    }
  }

  /** Digests (bare hex) already on the bundles topic when the service started. */
  hasAnnounced(digestHex: string): boolean {
    return this.announcedDigests.has(digestHex);
  }

  apply(event: Envelope, position?: LogPosition): void {
    if (isEvent(event, PolicyBundleLoaded)) this.announcedDigests.add(event.data.digest);
    else this.state.apply(event, position);
  }

  protected override applyReplayed(event: Envelope, position: LogPosition): void {
    this.apply(event, position);
  }

  private async replayState(): Promise<void> {
    const onInvalid = (error: unknown, origin: LogPosition): void =>
      this.logger.warn('skipping an undecodable record while catching up policy state', { ...origin, error: String(error) });
    try {
      // The start-up replay created the topics; the state skips what it applied already (offsets per partition).
      await this.bus.replay({ topics: this.topics(), handler: async (event, position) => this.apply(event, position), onInvalid });
    } catch (error) {
      throw new RetriableError(`policy state could not catch up: ${describeError(error)}`, { cause: error });
    }
  }
}
