import type { DriftDetectedData, ReconciliationCompletedData } from '@grantline/contracts';
import { compareStrings, hasApplied, insertSorted, utc, withApplied } from './projection';
import type { AuditEvent, AuditEventType, Projection, ProjectionDocument } from './projection';

/** One difference a reconciliation found between the connector's target and the grants. */
export interface ReconciliationFinding {
  readonly eventId: string;
  readonly kind: DriftDetectedData['kind'];
  readonly systemId: string;
  readonly targetAccount: string;
  readonly externalRef: string;
  /** Absent for access in the target that no grant accounts for. */
  readonly grantId?: string;
  readonly remediation: DriftDetectedData['remediation'];
}

/**
 * One reconciliation of one connector, keyed by what its findings and its completion share: the connector and
 * the instant the target was read. The completion fills `reportId` and the counts; findings may arrive before or
 * after it (they travel on other partitions), so a document with findings but no `reportId` is still arriving.
 */
export interface ReconciliationDocument extends ProjectionDocument {
  readonly connectorId: string;
  /** When the connector read the target, UTC. */
  readonly observedAt: string;
  readonly completed: boolean;
  readonly reportId?: string;
  readonly assignments?: number;
  readonly grantsExpected?: number;
  readonly drift?: ReconciliationCompletedData['drift'];
  /** The completion event the counts come from: if two ever name the same instant, the smaller id wins, in any order. */
  readonly completedEventId?: string;
  readonly findings: readonly ReconciliationFinding[];
}

const RECONCILIATION_EVENTS = ['iga.grant.drift-detected.v1', 'iga.grant.reconciliation-completed.v1'] as const satisfies readonly AuditEventType[];

type ReconciliationEvent = Extract<AuditEvent, { type: (typeof RECONCILIATION_EVENTS)[number] }>;

const RECONCILIATION_TYPES: ReadonlySet<string> = new Set(RECONCILIATION_EVENTS);

function isReconciliationEvent(event: AuditEvent): event is ReconciliationEvent {
  return RECONCILIATION_TYPES.has(event.type);
}

/** `connector@instant`: the instant is a UTC ISO string (no `@`), so the id splits back unambiguously at the last `@`. */
export function reconciliationIdOf(connectorId: string, observedAt: string): string {
  return `${connectorId}@${utc(observedAt)}`;
}

function observedAtOf(event: ReconciliationEvent): string {
  return event.type === 'iga.grant.drift-detected.v1' ? event.data.detectedAt : event.data.observedAt;
}

/** Findings in a fixed order (kind, system, account, object, event), so the document does not depend on arrival order. */
export function compareFindings(a: ReconciliationFinding, b: ReconciliationFinding): number {
  return (
    compareStrings(a.kind, b.kind) ||
    compareStrings(a.systemId, b.systemId) ||
    compareStrings(a.targetAccount, b.targetAccount) ||
    compareStrings(a.externalRef, b.externalRef) ||
    compareStrings(a.eventId, b.eventId)
  );
}

function findingOf(event: Extract<AuditEvent, { type: 'iga.grant.drift-detected.v1' }>): ReconciliationFinding {
  const d = event.data;
  return {
    eventId: event.id,
    kind: d.kind,
    systemId: d.systemId,
    targetAccount: d.targetAccount,
    externalRef: d.externalRef,
    ...(d.grantId !== undefined ? { grantId: d.grantId } : {}),
    remediation: d.remediation,
  };
}

function outranks(candidate: { reportId: string; eventId: string }, current: ReconciliationDocument): boolean {
  if (current.reportId === undefined || current.completedEventId === undefined) return true;
  return (compareStrings(candidate.reportId, current.reportId) || compareStrings(candidate.eventId, current.completedEventId)) < 0;
}

function applyEvent(doc: ReconciliationDocument, event: ReconciliationEvent): ReconciliationDocument {
  if (event.type === 'iga.grant.drift-detected.v1') return { ...doc, findings: insertSorted(doc.findings, findingOf(event), compareFindings) };
  const d = event.data;
  if (!outranks({ reportId: d.reportId, eventId: event.id }, doc)) return doc;
  return {
    ...doc,
    completed: true,
    reportId: d.reportId,
    assignments: d.assignments,
    grantsExpected: d.grantsExpected,
    drift: { missingInTarget: d.drift.missingInTarget, unexpectedInTarget: d.drift.unexpectedInTarget, expiredButPresent: d.drift.expiredButPresent },
    completedEventId: event.id,
  };
}

function emptyDocument(id: string): ReconciliationDocument {
  const separator = id.lastIndexOf('@');
  return { _id: id, connectorId: id.slice(0, separator), observedAt: id.slice(separator + 1), completed: false, findings: [], appliedEventIds: [] };
}

/** Reconciliations of a connector's target against its grants: the counts, and the drift each one found. */
export const reconciliationProjection: Projection<ReconciliationDocument> = {
  name: 'reconciliations',
  version: 1,
  handles: RECONCILIATION_EVENTS,
  documentIdsOf(event) {
    return isReconciliationEvent(event) ? [reconciliationIdOf(event.data.connectorId, observedAtOf(event))] : [];
  },
  apply(doc, event, id) {
    if ((doc !== undefined && hasApplied(doc, event)) || !isReconciliationEvent(event)) return doc ?? emptyDocument(id);
    const next = applyEvent(doc ?? emptyDocument(id), event);
    return { ...next, appliedEventIds: withApplied(doc, event) };
  },
};
