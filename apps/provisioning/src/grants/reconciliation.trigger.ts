import { Inject, Injectable, Logger } from '@nestjs/common';
import type { OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { ConnectorStateReportRequested, topicOf } from '@grantline/contracts';
import type { EventRegistry, StateReportRequestedData } from '@grantline/contracts';
import type { MessageBus } from '@grantline/messaging';
import { EVENT_REGISTRY, MESSAGE_BUS } from '@grantline/messaging-nest';
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

  constructor(
    @Inject(MESSAGE_BUS) private readonly bus: MessageBus,
    @Inject(EVENT_REGISTRY) private readonly registry: EventRegistry,
    @Inject(PROVISIONING_CONFIG) private readonly config: ProvisioningConfig,
    private readonly stateService: ProvisioningStateService,
  ) {}

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
      const requestedAt = new Date().toISOString();
      const reportId = `rpt-${connectorId}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
      const data: StateReportRequestedData = { reportId, connectorId, requestedAt };
      const event = this.registry.encode(ConnectorStateReportRequested, data, {
        id: reportId,
        source: 'grantline/provisioning',
        time: requestedAt,
        subject: reportId,
        correlationid: reportId,
        actor: { kind: 'service', id: 'provisioning' },
      });
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
