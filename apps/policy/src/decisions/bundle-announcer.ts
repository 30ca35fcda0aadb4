import { Inject, Injectable, Logger } from '@nestjs/common';
import type { OnApplicationBootstrap } from '@nestjs/common';
import { PolicyBundleLoaded } from '@grantline/contracts';
import type { BundleLoadedData, Envelope, EventRegistry } from '@grantline/contracts';
import type { Clock } from '@grantline/decider';
import { EventFactory } from '@grantline/decider';
import { StateNotLoadedError, deterministicEventId } from '@grantline/messaging';
import type { MessageBus } from '@grantline/messaging';
import { EVENT_REGISTRY, MESSAGE_BUS } from '@grantline/messaging-nest';
import type { Bundle } from '@grantline/policy-engine';
import { CLOCK } from '@grantline/service-kit';
import { POLICY_PRODUCER, digestHex } from '../domain';
import { POLICY_BUNDLE } from './policy-bundle.provider';
import { PolicyStateService } from './policy-state.service';

/** One id per bundle digest: announcing the same bundle again (a restart, a second instance) is a duplicate, not a new fact. */
const bundleLoadedIdParts = (digest: string): string[] => ['bundle-loaded', digestHex(digest)];
export const bundleLoadedIdOf = (digest: string): string => deterministicEventId(...bundleLoadedIdParts(digest));

export const bundleLoadedEvent = (bundle: Bundle, registry: EventRegistry, time: string): Envelope<BundleLoadedData> => {
  const hex = digestHex(bundle.digest);
  return new EventFactory(registry, POLICY_PRODUCER, deterministicEventId).derive(
    PolicyBundleLoaded,
    { digest: hex, revision: `${bundle.name}@${bundle.version}`.slice(0, 200), engine: 'cel', files: bundle.files.map((file) => ({ ...file })) },
    { idParts: bundleLoadedIdParts(hex), time, subject: hex, correlationId: `bundle:${hex}` },
  );
};

/**
 * Publishes the bundle this instance decides with, unless the log already holds it, so history can say
 * which bundle decided what (and the backtest can re-run a recorded decision with its own bundle).
 */
@Injectable()
export class BundleAnnouncer implements OnApplicationBootstrap {
  private readonly logger = new Logger('policy');

  constructor(
    @Inject(POLICY_BUNDLE) private readonly bundle: Bundle,
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
    @Inject(EVENT_REGISTRY) private readonly registry: EventRegistry,
    private readonly state: PolicyStateService,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /**
   * A healthy start announces before the service reports itself started. A state that did not load at the first
   * replay is announced once it has, in the background: the announcement must know what the log holds, and the
   * start-up must not hang on a replay that keeps failing (readiness says so meanwhile).
   */
  async onApplicationBootstrap(): Promise<void> {
    await this.state.whenAttempted();
    if (this.state.isReady()) return this.announce();
    void this.announce().catch((error: unknown) => {
      if (error instanceof StateNotLoadedError) return;
      this.logger.error({ msg: 'announcing the policy bundle failed; the next start announces it', error: String(error) });
    });
  }

  async announce(): Promise<void> {
    await this.state.whenLoaded();
    const hex = digestHex(this.bundle.digest);
    if (this.state.hasAnnounced(hex)) {
      this.logger.log({ msg: 'policy bundle already announced', digest: hex, name: this.bundle.name, version: this.bundle.version });
      return;
    }
    const event = bundleLoadedEvent(this.bundle, this.registry, this.clock.now().toISOString());
    await this.bus.publisher.publish(this.registry.latestOf(PolicyBundleLoaded.name).topic, [event]);
    this.state.apply(event);
    this.logger.log({ msg: 'policy bundle announced', digest: hex, name: this.bundle.name, version: this.bundle.version, files: this.bundle.files.length });
  }
}
