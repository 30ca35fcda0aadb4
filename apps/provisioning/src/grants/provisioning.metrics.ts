import { Inject, Injectable, Optional } from '@nestjs/common';
import type { OnModuleInit } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { systemClock } from '@grantline/decider';
import type { Clock } from '@grantline/decider';
import { CLOCK, ServiceMetrics } from '@grantline/service-kit';
import { revocationHealth } from '../domain';
import type { RevocationHealth } from '../domain';
import { PROVISIONING_CONFIG } from './provisioning.config';
import type { ProvisioningConfig } from './provisioning.config';
import { ProvisioningStateService } from './provisioning-state.service';

const DEFAULT_OVERDUE_AFTER_MS = 5 * 60_000;

/**
 * The grant lifecycle as Prometheus sees it, computed from the replayed state at each scrape (no second
 * bookkeeping to drift from the log): grants per status and `grantline_revocations_overdue`, the alert an on-call
 * engineer is paged on. Nothing is reported until the state is loaded: a half-replayed state would under-count.
 */
@Injectable()
export class ProvisioningMetrics implements OnModuleInit {
  constructor(
    @Inject(ServiceMetrics) private readonly metrics: ServiceMetrics,
    @Inject(ProvisioningStateService) private readonly state: ProvisioningStateService,
    @Inject(PROVISIONING_CONFIG) private readonly config: ProvisioningConfig,
    @Optional() @Inject(CLOCK) private readonly clock: Clock = systemClock,
  ) {}

  onModuleInit(): void {
    const read = (): RevocationHealth | undefined =>
      this.state.isReady()
        ? revocationHealth(this.state.state.allGrants(), this.clock.now(), this.config.revocationOverdueAfterMs ?? DEFAULT_OVERDUE_AFTER_MS)
        : undefined;
    const registers = [this.metrics.registry];
    const connectorIds = this.config.connectorIds;
    // The registry outlives an app built twice from one module (a restart in a spec): the latest state answers.
    for (const name of ['grantline_revocations_overdue', 'grantline_grants']) this.metrics.registry.removeSingleMetric(name);
    new Gauge({
      name: 'grantline_revocations_overdue',
      help: 'Grants whose removal is overdue, per connector: asked for and not done within the allowance, irrevocable, or past expiry with no removal asked',
      labelNames: ['connector'],
      registers,
      collect() {
        this.reset();
        const health = read();
        if (!health) return;
        // Every connector commanded here is reported, 0 included, so an alert can tell "none" from "no data".
        for (const connector of connectorIds) this.set({ connector }, 0);
        for (const [connector, count] of Object.entries(health.overdueByConnector)) this.set({ connector }, count);
      },
    });
    new Gauge({
      name: 'grantline_grants',
      help: 'Grants known to provisioning, per lifecycle status (status="active": access live in the target)',
      labelNames: ['status'],
      registers,
      collect() {
        const health = read();
        if (!health) return;
        for (const [status, count] of Object.entries(health.byStatus)) this.set({ status }, count);
      },
    });
  }
}
