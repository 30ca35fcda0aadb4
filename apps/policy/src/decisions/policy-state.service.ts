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
import type { MessageBus } from '@grantline/messaging';
import { EVENT_REGISTRY, MESSAGE_BUS } from '@grantline/messaging-nest';
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
 * Holds the policy state and rebuilds it by replaying its topics from the beginning once per start;
 * the same replay lists the bundle digests already announced. Request handling waits for it, because
 * the transport may start consuming before Nest's bootstrap hooks run.
 */
@Injectable()
export class PolicyStateService {
  readonly state = new PolicyState();
  private readonly announcedDigests = new Set<string>();
  private loading: Promise<void> | undefined;
  private catchingUp: Promise<void> | undefined;
  private catchUpStartedAt = 0;
  private readonly logger = new Logger('policy');

  constructor(
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
    @Inject(EVENT_REGISTRY) private readonly registry: EventRegistry,
  ) {}

  topics(): string[] {
    return [...new Set([...STATE_EVENTS, PolicyBundleLoaded].map((def) => this.registry.latestOf(def.name).topic))].sort();
  }

  whenLoaded(): Promise<void> {
    this.loading ??= this.load();
    return this.loading;
  }

  /**
   * Reads the state topics again up to their current end. A request may name an identity or a catalogue
   * entry published just before it on another topic that the live consumer has not reached yet; after
   * this, everything published before the request was received is applied. Concurrent callers share one
   * replay, and one that started after `receivedAt` already covers the caller.
   */
  async catchUp(receivedAt: number): Promise<void> {
    await this.whenLoaded();
    for (;;) {
      if (this.catchUpStartedAt >= receivedAt) {
        await this.catchingUp;
        return;
      }
      if (this.catchingUp) {
        await this.catchingUp.catch(() => undefined);
        continue;
      }
      this.catchUpStartedAt = Date.now();
      this.catchingUp = this.replayState()
        .then(() => undefined)
        .finally(() => {
          this.catchingUp = undefined;
        });
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

  private async load(): Promise<void> {
    const started = Date.now();
    const replayed = await this.replayState();
    this.logger.log({ msg: 'policy state rebuilt', events: replayed, ms: Date.now() - started, catalogVersion: this.state.catalog?.version ?? null });
  }

  private async replayState(): Promise<number> {
    const onInvalid = (error: unknown, origin: LogPosition): void =>
      this.logger.warn('skipping an undecodable record while rebuilding policy state', { ...origin, error: String(error) });
    const handler = async (event: Envelope, position: LogPosition): Promise<void> => this.apply(event, position);
    let replayed = 0;
    try {
      replayed = await this.bus.replay({ topics: this.topics(), handler, onInvalid });
    } catch (error) {
      // A topic another service owns may not exist yet (that service never started); read the others one by one.
      this.logger.warn('replaying policy state topics together failed; trying one by one', { error: String(error) });
      for (const topic of this.topics()) {
        replayed += await this.bus.replay({ topics: [topic], handler, onInvalid }).catch((perTopic: unknown) => {
          this.logger.warn('cannot replay topic; starting without its state', { topic, error: String(perTopic) });
          return 0;
        });
      }
    }
    return replayed;
  }
}
