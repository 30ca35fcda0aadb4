import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import {
  ConnectorDeprovisioned,
  ConnectorDeprovisionRequested,
  ConnectorOperationFailed,
  ConnectorProvisioned,
  ConnectorProvisionRequested,
} from '@grantline/contracts';
import type { DeprovisionRequestedData, Envelope, EventDefinition, EventRegistry, ProvisionRequestedData } from '@grantline/contracts';
import { runContractCommand } from '@grantline/connector-sdk';
import type { ContractCommand, ContractResult } from '@grantline/connector-sdk';
import { deterministicEventId } from '@grantline/messaging';
import { EVENT_REGISTRY } from '@grantline/messaging-nest';
import { ConnectorRuntime } from './connector-runtime';

const DEFINITION_OF: Readonly<Record<ContractResult['kind'], EventDefinition>> = {
  provisioned: ConnectorProvisioned,
  deprovisioned: ConnectorDeprovisioned,
  operation_failed: ConnectorOperationFailed,
};

/**
 * The adapter's whole job: a command from the connector's commands topic goes through the SDK runner
 * (idempotency, retries with backoff, error mapping; it never throws) and its result is returned for the
 * transport to publish on the results topic. Every command gets exactly one result event.
 */
@Controller()
export class ConnectorCommandsHandler {
  constructor(
    private readonly runtime: ConnectorRuntime,
    @Inject(EVENT_REGISTRY) private readonly registry: EventRegistry,
  ) {}

  @EventPattern(ConnectorProvisionRequested.type)
  onProvision(@Payload() event: Envelope<ProvisionRequestedData>): Promise<Envelope[]> {
    return this.run(event, { operation: 'provision', data: event.data });
  }

  @EventPattern(ConnectorDeprovisionRequested.type)
  onDeprovision(@Payload() event: Envelope<DeprovisionRequestedData>): Promise<Envelope[]> {
    return this.run(event, { operation: 'deprovision', data: event.data });
  }

  private async run(event: Envelope, command: ContractCommand): Promise<Envelope[]> {
    const result = await runContractCommand(this.runtime.runner, command);
    const def = this.registry.latestOf(DEFINITION_OF[result.kind].name);
    const time = result.kind === 'operation_failed' ? result.data.failedAt : result.data.completedAt;
    const source = `grantline/connector-${this.runtime.config.connectorId}`;
    return [
      this.registry.encode(def, result.data, {
        // A redelivered command answers under the same id (and the same kind), so the duplicate is recognisable.
        id: deterministicEventId(source, event.id, result.kind),
        source,
        time,
        subject: event.subject,
        correlationid: event.correlationid,
        causationid: event.id,
        actor: { kind: 'service', id: `connector-${this.runtime.config.connectorId}` },
      }),
    ];
  }
}
