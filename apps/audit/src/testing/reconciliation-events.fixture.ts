import { GrantDriftDetected, GrantReconciliationCompleted, registry } from '@grantline/contracts';
import type { DriftDetectedData, Envelope, ReconciliationCompletedData } from '@grantline/contracts';
import { toAuditEvent } from '../projections/projection';
import type { AuditEvent } from '../projections/projection';

const PROVISIONING = { kind: 'service', id: 'provisioning' } as const;

export type FindingOptions = Pick<DriftDetectedData, 'connectorId' | 'kind' | 'targetAccount' | 'externalRef' | 'detectedAt'> &
  Partial<Pick<DriftDetectedData, 'systemId' | 'grantId' | 'remediation'>> & {
    readonly eventId: string;
    /** The finding's request (for a grant) or the report id; the envelope's correlation id. */
    readonly correlationId: string;
  };

/** A drift-detected event as provisioning publishes it for one finding. */
export function driftFinding(options: FindingOptions): AuditEvent {
  const { eventId, correlationId, systemId, grantId, remediation, ...data } = options;
  const envelope: Envelope = registry.encode(
    GrantDriftDetected,
    { ...data, systemId: systemId ?? `sys-${options.connectorId}`, remediation: remediation ?? 'report_only', ...(grantId !== undefined ? { grantId } : {}) },
    { id: eventId, source: 'grantline/audit-spec', time: options.detectedAt, subject: correlationId, correlationid: correlationId, actor: PROVISIONING },
  );
  return toAuditEvent(envelope)!;
}

/** A reconciliation-completed event; its correlation id and subject are the report id. */
export function reconciliationCompleted(data: ReconciliationCompletedData, eventId: string): AuditEvent {
  const envelope: Envelope = registry.encode(GrantReconciliationCompleted, data, {
    id: eventId,
    source: 'grantline/audit-spec',
    time: data.observedAt,
    subject: data.reportId,
    correlationid: data.reportId,
    actor: PROVISIONING,
  });
  return toAuditEvent(envelope)!;
}
