import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import type { OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { PolicySodScanCompleted } from '@grantline/contracts';
import type { EventRegistry, SodScanCompletedData, SodViolationDetectedData } from '@grantline/contracts';
import { systemClock } from '@grantline/decider';
import type { Clock } from '@grantline/decider';
import { deterministicEventId } from '@grantline/messaging';
import type { MessageBus } from '@grantline/messaging';
import { EVENT_REGISTRY, MESSAGE_BUS } from '@grantline/messaging-nest';
import type { Bundle } from '@grantline/policy-engine';
import { CLOCK } from '@grantline/service-kit';
import { scanHoldings, sodScanEvents } from '../domain';
import type { SodScanTrigger } from '../domain';
import { POLICY_BUNDLE } from '../decisions/policy-bundle.provider';
import { POLICY_CONFIG } from '../decisions/policy.config';
import type { PolicyConfig } from '../decisions/policy.config';
import { PolicyStateService } from '../decisions/policy-state.service';

export interface SodScanSummary {
  readonly scan: SodScanCompletedData;
  readonly violations: readonly SodViolationDetectedData[];
}

/** Who runs the scheduled scans: the service itself. */
export const SCHEDULER_PRINCIPAL = 'policy';

/**
 * The detective SoD control: scans what every identity holds (grants, and access found on targets without one)
 * against the bundle's toxic combinations, and publishes each violation and the scan's summary on the decisions
 * topic. On demand (the API) and every SOD_SCAN_EVERY; only the active instance runs (a leased service initialises
 * its app, and so this schedule, only once it holds the lease). Scans do not overlap: one asked for while another
 * runs waits for it, then runs on the state as it is then.
 */
@Injectable()
export class SodScanService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('policy');
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private running: Promise<unknown> = Promise.resolve();

  constructor(
    @Inject(POLICY_BUNDLE) private readonly bundle: Bundle,
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
    @Inject(EVENT_REGISTRY) private readonly registry: EventRegistry,
    @Inject(POLICY_CONFIG) private readonly config: PolicyConfig,
    private readonly state: PolicyStateService,
    @Optional() @Inject(CLOCK) private readonly clock: Clock = systemClock,
  ) {}

  onApplicationBootstrap(): void {
    const every = this.config.sodScanEveryMs;
    if (every === undefined) return;
    // Not a durable timer on purpose: a tick lost to a restart is replaced by the next one; the scan is idempotent
    // in what it finds (violation ids are stable), so a missed or doubled tick changes no review.
    this.timer = setInterval(() => {
      if (this.stopped) return;
      this.scan('scheduled', SCHEDULER_PRINCIPAL).catch((error: unknown) =>
        this.logger.warn({ msg: 'scheduled SoD scan failed; the next tick retries', error: String(error) }),
      );
    }, every);
  }

  onModuleDestroy(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
  }

  /** Runs one scan on the current state and publishes its events before answering. */
  scan(trigger: SodScanTrigger, requestedBy: string): Promise<SodScanSummary> {
    const next = this.running.catch(() => undefined).then(() => this.scanNow(trigger, requestedBy));
    this.running = next;
    return next;
  }

  private async scanNow(trigger: SodScanTrigger, requestedBy: string): Promise<SodScanSummary> {
    await this.state.whenLoaded();
    const started = this.clock.now();
    // Unique per scan, not derived: scanning again is a new scan, never a redelivery of the last one.
    const scanId = `sod-scan-${started.getTime().toString(36)}-${randomBytes(4).toString('hex')}`;
    const startedAt = started.toISOString();
    const result = scanHoldings(this.bundle, this.state.current, this.state.sodFacts, {
      scanId,
      trigger,
      requestedBy,
      startedAt,
      completedAt: this.clock.now().toISOString(),
    });
    const events = sodScanEvents(result, this.registry, deterministicEventId);
    await this.bus.publisher.publish(this.registry.latestOf(PolicySodScanCompleted.name).topic, events);
    this.logger.log({
      msg: 'SoD scan completed',
      scanId,
      trigger,
      requestedBy,
      identities: result.completed.identitiesScanned,
      violations: result.violations.length,
    });
    return { scan: result.completed, violations: result.violations };
  }
}
