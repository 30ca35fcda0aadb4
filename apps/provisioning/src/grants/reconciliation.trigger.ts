import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import type { OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { ConnectorStateReportRequested, topicOf } from '@grantline/contracts';
import type { EventRegistry, StateReportRequestedData } from '@grantline/contracts';
import { systemClock } from '@grantline/decider';
import type { Clock, EventFactory } from '@grantline/decider';
import { deterministicEventId } from '@grantline/messaging';
import type { MessageBus } from '@grantline/messaging';
import { EVENT_REGISTRY, MESSAGE_BUS } from '@grantline/messaging-nest';
import { CLOCK } from '@grantline/service-kit';
import { provisioningEvents } from '../domain';
import { PROVISIONING_CONFIG } from './provisioning.config';
import type { ProvisioningConfig } from './provisioning.config';
import { ProvisioningStateService } from './provisioning-state.service';

/**
 * Asks each connector for its target's actual state once the grants are rebuilt (a start is when drift is most
 * likely unseen) and then every PROVISIONING_RECONCILE_EVERY. Not a durable timer on purpose: a tick lost to a
 * restart is replaced by the one the restart makes.
 */
@Injectable()
export class ReconciliationTrigger implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('reconciliation');
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly events: EventFactory;

  constructor(
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
    @Inject(EVENT_REGISTRY) registry: EventRegistry,
    @Inject(PROVISIONING_CONFIG) private readonly config: ProvisioningConfig,
    private readonly stateService: ProvisioningStateService,
    @Optional() @Inject(CLOCK) private readonly clock: Clock = systemClock,
  ) {
    this.events = provisioningEvents({ registry, eventId: deterministicEventId });
  }

  onApplicationBootstrap(): void {
    const every = this.config.reconcileEveryMs;
    if (every === undefined) return;
    void this.stateService
      .whenLoaded()
      .then(async () => {
        if (this.stopped) return;
        await this.requestAll();
        if (!this.stopped) this.timer = setInterval(() => void this.requestAll(), every);
      })
      // Rejected only when the service stops before its grants were rebuilt: there is nothing to reconcile against.
      .catch(() => undefined);
  }

  onModuleDestroy(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
  }

  /** One state report request per connector; a connector that is down answers when it is back. */
  async requestAll(): Promise<void> {
    for (const connectorId of this.config.connectorIds) {
      const now = this.clock.now();
      const requestedAt = now.toISOString();
      // Unique per ask, not derived: asking again is a new report, never a redelivery of the last one.
      const reportId = `rpt-${connectorId}-${now.getTime().toString(36)}-${randomBytes(3).toString('hex')}`;
      const data: StateReportRequestedData = { reportId, connectorId, requestedAt };
      const event = this.events.derive(ConnectorStateReportRequested, data, { id: reportId, time: requestedAt, subject: reportId });
      try {
        await this.bus.publisher.publish(topicOf(ConnectorStateReportRequested, data), [event]);
        this.logger.log({ msg: 'state report requested', connectorId, reportId });
      } catch (error) {
        // the next tick asks again; a failed ask must not stop the service
        this.logger.warn({ msg: 'could not request a state report', connectorId, error: String(error) });
      }
    }
  }
}
