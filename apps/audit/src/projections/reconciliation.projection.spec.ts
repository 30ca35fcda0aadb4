import { projectInMemory } from '../testing/in-memory-projection';
import { driftFinding, reconciliationCompleted } from '../testing/reconciliation-events.fixture';
import type { AuditEvent } from './projection';
import { reconciliationIdOf, reconciliationProjection } from './reconciliation.projection';
import type { ReconciliationDocument } from './reconciliation.projection';
import { requestTimelineProjection } from './request-timeline.projection';

const connectorId = 'pg-main';
const firstRun = '2025-03-02T02:00:00.000Z';
const secondRun = '2025-03-03T02:00:00.000Z';

const missing = driftFinding({
  eventId: 'drift-missing',
  connectorId,
  kind: 'missing_in_target',
  grantId: 'req-1:ent-pg-orders-read',
  targetAccount: 'svc_orders_exporter',
  externalRef: 'orders_read',
  detectedAt: firstRun,
  correlationId: 'req-1',
});
const unexpected = driftFinding({
  eventId: 'drift-unexpected',
  connectorId,
  kind: 'unexpected_in_target',
  targetAccount: 'mallory',
  externalRef: 'orders_admin',
  detectedAt: firstRun,
  correlationId: 'rpt-1',
});
// the same instant written in another offset: the reconciliation it belongs to is the same
const completedFirst = reconciliationCompleted(
  {
    reportId: 'rpt-1',
    connectorId,
    observedAt: '2025-03-02T03:00:00.000+01:00',
    assignments: 4,
    grantsExpected: 4,
    drift: { missingInTarget: 1, unexpectedInTarget: 1, expiredButPresent: 0 },
  },
  'completed-1',
);
const expired = driftFinding({
  eventId: 'drift-expired',
  connectorId,
  kind: 'expired_but_present',
  grantId: 'req-2:ent-pg-orders-read',
  targetAccount: 'svc_reporting',
  externalRef: 'orders_read',
  detectedAt: secondRun,
  correlationId: 'req-2',
});
const completedSecond = reconciliationCompleted(
  {
    reportId: 'rpt-2',
    connectorId,
    observedAt: secondRun,
    assignments: 5,
    grantsExpected: 4,
    drift: { missingInTarget: 0, unexpectedInTarget: 0, expiredButPresent: 1 },
  },
  'completed-2',
);
const events = [missing, unexpected, completedFirst, expired, completedSecond];

const firstId = reconciliationIdOf(connectorId, firstRun);
const secondId = reconciliationIdOf(connectorId, secondRun);

function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]];
  return items.flatMap((item, index) => permutations([...items.slice(0, index), ...items.slice(index + 1)]).map((rest) => [item, ...rest]));
}

function project(list: readonly AuditEvent[]): Record<string, ReconciliationDocument> {
  return Object.fromEntries(projectInMemory(reconciliationProjection, list));
}

describe('reconciliation projection (what each reconciliation of a connector found)', () => {
  it('Given findings and completions of two reconciliations, When projected, Then each finding sits in the reconciliation that observed it', () => {
    const documents = project(events);

    expect(Object.keys(documents).sort()).toEqual([firstId, secondId]);
    expect(documents[firstId]).toEqual({
      _id: 'pg-main@2025-03-02T02:00:00.000Z',
      connectorId,
      observedAt: firstRun,
      completed: true,
      reportId: 'rpt-1',
      assignments: 4,
      grantsExpected: 4,
      drift: { missingInTarget: 1, unexpectedInTarget: 1, expiredButPresent: 0 },
      completedEventId: 'completed-1',
      findings: [
        {
          eventId: 'drift-missing',
          kind: 'missing_in_target',
          systemId: 'sys-pg-main',
          targetAccount: 'svc_orders_exporter',
          externalRef: 'orders_read',
          grantId: 'req-1:ent-pg-orders-read',
          remediation: 'report_only',
        },
        {
          eventId: 'drift-unexpected',
          kind: 'unexpected_in_target',
          systemId: 'sys-pg-main',
          targetAccount: 'mallory',
          externalRef: 'orders_admin',
          remediation: 'report_only',
        },
      ],
      appliedEventIds: ['completed-1', 'drift-missing', 'drift-unexpected'],
    });
    expect(documents[secondId]).toMatchObject({ reportId: 'rpt-2', observedAt: secondRun, findings: [expect.objectContaining({ eventId: 'drift-expired' })] });
  });

  it('Given the same events in every possible order, When projected, Then the documents are identical', () => {
    const expected = project(events);

    const orders = permutations(events);
    expect(orders).toHaveLength(120);
    for (const order of orders) expect(project(order)).toEqual(expected);
  });

  it('Given each event delivered twice, When the duplicate is applied, Then the document is the same object', () => {
    for (let length = 1; length <= events.length; length += 1) {
      const documents = projectInMemory(reconciliationProjection, events.slice(0, length));
      const last = events[length - 1]!;
      for (const id of reconciliationProjection.documentIdsOf(last))
        expect(reconciliationProjection.apply(documents.get(id), last, id)).toBe(documents.get(id));
    }
    expect(project([...events, ...events])).toEqual(project(events));
  });

  it('Given only the findings of a reconciliation, When projected, Then it is not completed and carries no report or counts yet', () => {
    expect(project([missing, unexpected])[firstId]).toEqual({
      _id: firstId,
      connectorId,
      observedAt: firstRun,
      completed: false,
      findings: [expect.objectContaining({ eventId: 'drift-missing' }), expect.objectContaining({ eventId: 'drift-unexpected' })],
      appliedEventIds: ['drift-missing', 'drift-unexpected'],
    });
  });

  it('Given a completion without drift, When projected, Then it is completed with no findings', () => {
    const clean = reconciliationCompleted(
      {
        reportId: 'rpt-3',
        connectorId,
        observedAt: secondRun,
        assignments: 4,
        grantsExpected: 4,
        drift: { missingInTarget: 0, unexpectedInTarget: 0, expiredButPresent: 0 },
      },
      'completed-3',
    );

    expect(project([clean])[secondId]).toMatchObject({ completed: true, reportId: 'rpt-3', findings: [] });
  });

  it('Given two connectors reconciled at the same instant, When projected, Then their findings stay apart', () => {
    const otherConnector = driftFinding({
      eventId: 'drift-other',
      connectorId: 'ldap-corp',
      kind: 'unexpected_in_target',
      targetAccount: 'mallory',
      externalRef: 'cn=admins',
      detectedAt: firstRun,
      correlationId: 'rpt-9',
    });

    const documents = project([missing, otherConnector]);

    expect(documents[firstId]?.findings.map((finding) => finding.eventId)).toEqual(['drift-missing']);
    expect(documents[reconciliationIdOf('ldap-corp', firstRun)]?.findings.map((finding) => finding.eventId)).toEqual(['drift-other']);
  });

  it('Given two completions naming the same instant, When projected in either order, Then the same one supplies the report and counts', () => {
    const rival = reconciliationCompleted(
      {
        reportId: 'rpt-0',
        connectorId,
        observedAt: firstRun,
        assignments: 9,
        grantsExpected: 9,
        drift: { missingInTarget: 0, unexpectedInTarget: 0, expiredButPresent: 0 },
      },
      'completed-0',
    );

    expect(project([completedFirst, rival])).toEqual(project([rival, completedFirst]));
    expect(project([completedFirst, rival])[firstId]).toMatchObject({ reportId: 'rpt-0', assignments: 9 });
  });

  it('Given the request timeline, When a completion or a finding without grant arrives, Then no request is touched; a finding about a grant joins its request', () => {
    expect(requestTimelineProjection.handles).not.toContain('iga.grant.reconciliation-completed.v1');
    expect(requestTimelineProjection.documentIdsOf(completedFirst)).toEqual([]);
    expect(requestTimelineProjection.documentIdsOf(unexpected)).toEqual([]);
    expect(requestTimelineProjection.documentIdsOf(missing)).toEqual(['req-1']);
  });
});
