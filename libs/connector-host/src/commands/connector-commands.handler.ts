import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import {
  ConnectorAccountDeactivated,
  ConnectorAccountDeactivationFailed,
  ConnectorAccountDeactivationRequested,
  ConnectorCredentialRotated,
  ConnectorDeprovisioned,
  ConnectorDeprovisionRequested,
  ConnectorOperationFailed,
  ConnectorProvisioned,
  ConnectorProvisionRequested,
  ConnectorRotationFailed,
  ConnectorRotationRequested,
  ConnectorStateReported,
  ConnectorStateReportRequested,
} from '@grantline/contracts';
import type {
  AccountDeactivationCommandData,
  DeprovisionRequestedData,
  Envelope,
  EventDefinition,
  EventRegistry,
  ProvisionRequestedData,
  RotationRequestedV2Data,
  StateReportRequestedData,
} from '@grantline/contracts';
import { runContractCommand, runContractDeactivation, runContractRotation } from '@grantline/connector-sdk';
import type { ContractCommand, ContractResult } from '@grantline/connector-sdk';
import { RetriableError, deterministicEventId } from '@grantline/messaging';
import { EVENT_REGISTRY } from '@grantline/messaging-nest';
import { ConnectorMetrics } from './connector-metrics';
import { ConnectorRuntime } from './connector-runtime';

const DEFINITION_OF: Readonly<Record<ContractResult['kind'], EventDefinition>> = {
  provisioned: ConnectorProvisioned,
  deprovisioned: ConnectorDeprovisioned,
  operation_failed: ConnectorOperationFailed,
};

/** The schema's bound on assignments per state-reported event. */
const STATE_REPORT_PAGE_SIZE = 1000;

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
    private readonly metrics: ConnectorMetrics,
  ) {}

  @EventPattern(ConnectorProvisionRequested.type)
  onProvision(@Payload() event: Envelope<ProvisionRequestedData>): Promise<Envelope[]> {
    return this.run(event, { operation: 'provision', data: event.data });
  }

  @EventPattern(ConnectorDeprovisionRequested.type)
  onDeprovision(@Payload() event: Envelope<DeprovisionRequestedData>): Promise<Envelope[]> {
    return this.run(event, { operation: 'deprovision', data: event.data });
  }

  /**
   * Rotation (after a break-glass grant ended, or an NHI's owner changed): the SDK runner resets what the grant used or
   * replaces its credential (idempotent per grant and rotation) and exactly one result is published, rotated or
   * failed. A new secret goes only to the sealed vault, for the holders the command names.
   */
  @EventPattern(ConnectorRotationRequested.type)
  async onRotationRequested(@Payload() event: Envelope<RotationRequestedV2Data>): Promise<Envelope[]> {
    const result = await this.metrics.timed(
      'rotate',
      () => runContractRotation(this.runtime.runner, event.data),
      (done) => (done.kind === 'rotation_failed' ? { outcome: done.kind, code: done.data.code, errorClass: done.data.errorClass } : { outcome: done.kind }),
    );
    const def = this.registry.latestOf((result.kind === 'credential_rotated' ? ConnectorCredentialRotated : ConnectorRotationFailed).name);
    const source = this.source();
    return [
      this.registry.encode(def, result.data, {
        id: deterministicEventId(source, event.id, result.kind),
        source,
        time: result.kind === 'credential_rotated' ? result.data.completedAt : result.data.failedAt,
        subject: event.subject,
        correlationid: event.correlationid,
        causationid: event.id,
        actor: this.actor(),
      }),
    ];
  }

  /**
   * A leaver's account is deactivated (docs/adr/0036): the SDK runner calls the connector's `deactivateAccount` once
   * per identity (a connector without it answers a terminal failure) and exactly one result is published.
   */
  @EventPattern(ConnectorAccountDeactivationRequested.type)
  async onAccountDeactivationRequested(@Payload() event: Envelope<AccountDeactivationCommandData>): Promise<Envelope[]> {
    const result = await this.metrics.timed(
      'deactivate',
      () => runContractDeactivation(this.runtime.runner, event.data),
      (done) =>
        done.kind === 'account_deactivation_failed' ? { outcome: done.kind, code: done.data.code, errorClass: done.data.errorClass } : { outcome: done.kind },
    );
    const def = this.registry.latestOf((result.kind === 'account_deactivated' ? ConnectorAccountDeactivated : ConnectorAccountDeactivationFailed).name);
    const source = this.source();
    return [
      this.registry.encode(def, result.data, {
        id: deterministicEventId(source, event.id, result.kind),
        source,
        time: result.kind === 'account_deactivated' ? result.data.completedAt : result.data.failedAt,
        subject: event.subject,
        correlationid: event.correlationid,
        causationid: event.id,
        actor: this.actor(),
      }),
    ];
  }

  /**
   * Reconciliation: what the managed roles actually hold, in pages under the request's report id (one subject, so
   * one partition and in order). A target that cannot be read is an error, never an empty report: an empty one
   * would say every grant's access is gone.
   */
  @EventPattern(ConnectorStateReportRequested.type)
  async onStateReportRequested(@Payload() event: Envelope<StateReportRequestedData>): Promise<Envelope[]> {
    const report = await this.runtime.runner.reportActualState();
    if (report.status === 'failed') {
      throw new RetriableError(`cannot read the actual state of ${report.connectorId}: ${report.code}: ${report.message}`);
    }
    const { reportId } = event.data;
    const source = this.source();
    const def = this.registry.latestOf(ConnectorStateReported.name);
    const assignments = report.memberships.map((membership) => ({ targetAccount: membership.account, entitlementRef: membership.entitlementRef }));
    const pages = Math.max(1, Math.ceil(assignments.length / STATE_REPORT_PAGE_SIZE));
    return Array.from({ length: pages }, (_, index) =>
      this.registry.encode(
        def,
        {
          connectorId: this.runtime.config.connectorId,
          reportId,
          observedAt: report.observedAt,
          page: index + 1,
          lastPage: index + 1 === pages,
          assignments: assignments.slice(index * STATE_REPORT_PAGE_SIZE, (index + 1) * STATE_REPORT_PAGE_SIZE),
        },
        {
          id: deterministicEventId(source, event.id, 'state-reported', String(index + 1)),
          source,
          time: report.observedAt,
          subject: reportId,
          correlationid: reportId,
          causationid: event.id,
          actor: this.actor(),
        },
      ),
    );
  }

  private source(): string {
    return `grantline/connector-${this.runtime.config.connectorId}`;
  }

  private actor() {
    return { kind: 'service' as const, id: `connector-${this.runtime.config.connectorId}` };
  }

  private async run(event: Envelope, command: ContractCommand): Promise<Envelope[]> {
    const result = await this.metrics.timed(
      command.operation,
      () => runContractCommand(this.runtime.runner, command),
      (done) => (done.kind === 'operation_failed' ? { outcome: done.kind, code: done.data.code, errorClass: done.data.errorClass } : { outcome: done.kind }),
    );
    const def = this.registry.latestOf(DEFINITION_OF[result.kind].name);
    const time = result.kind === 'operation_failed' ? result.data.failedAt : result.data.completedAt;
    const source = this.source();
    return [
      this.registry.encode(def, result.data, {
        // A redelivered command answers under the same id (and the same kind), so the duplicate is recognisable.
        id: deterministicEventId(source, event.id, result.kind),
        source,
        time,
        subject: event.subject,
        correlationid: event.correlationid,
        causationid: event.id,
        actor: this.actor(),
      }),
    ];
  }
}
