import { GrantDriftDetected, GrantReconciliationCompleted, NotificationRequested, TOPICS, registry } from '@grantline/contracts';
import type { DriftDetectedData, Envelope, NotificationRequestedData } from '@grantline/contracts';
import { foldEvents } from '@grantline/decider';
import { deciderSpec } from '@grantline/testing';
import { specEventId } from '../testing/event-id';
import { FACT_TIME, NotifierFacts, REVIEW_DUE } from '../testing/notifier-facts';
import { NOTIFIER_SOURCE, makeNotifierDecider } from './notifier.decider';

const decider = makeNotifierDecider({ registry, eventId: specEventId, securityGroupId: 'security', alertGroupId: 'security-oncall' });
const given = deciderSpec(decider);
const facts = new NotifierFacts();
const REQUEST = 'req-0001';
const GRANT = 'req-0001:ent-orders-read';

/** The log as the service leaves it: each fact, then the notifications decided from it. */
class Log {
  readonly events: Envelope[] = [];

  constructor(...facts: Envelope[]) {
    for (const fact of facts) this.handle(fact);
  }

  /** Handles one fact as the service does and returns the notifications it asked for. */
  handle(fact: Envelope): Envelope<NotificationRequestedData>[] {
    const decided = decider.decide(fact, foldEvents(decider, this.events)) as Envelope<NotificationRequestedData>[];
    this.events.push(fact, ...decided);
    return decided;
  }
}

const dataOf = (events: readonly Envelope[]): NotificationRequestedData[] => events.map((event) => event.data as NotificationRequestedData);

describe('notifier decider', () => {
  describe('break_glass_granted', () => {
    it('asks the security group once the grant and its review are both known, exactly as the approval service did', () => {
      const review = facts.reviewOpened(REQUEST, ['lead-cy', 'lead-di']);
      given(new Log(facts.breakGlassGranted(REQUEST)).events)
        .when(review)
        .thenAssert(([notice, ...more]) => {
          expect(more).toEqual([]);
          expect(notice!.type).toBe(NotificationRequested.type);
          expect(notice!.data).toEqual({
            notificationId: specEventId('notification', 'break_glass_granted', REQUEST),
            channel: 'chat',
            audience: { groupId: 'security' },
            template: 'break_glass_granted',
            refs: { requestId: REQUEST, reviewId: `${REQUEST}:post-incident-review` },
            params: { beneficiaryId: 'oncall-bo', incident: 'INC0042', reviewerIds: 'lead-cy,lead-di', reviewDueAt: REVIEW_DUE },
          });
          expect(notice).toMatchObject({
            source: NOTIFIER_SOURCE,
            subject: REQUEST,
            correlationid: REQUEST,
            causationid: review.id,
            time: FACT_TIME,
            actor: { kind: 'service', id: 'notifier' },
          });
        });
      expect(registry.latestOf(NotificationRequested.name).topic).toBe(TOPICS.notifications);
    });

    it('joins in either order: the review first, the grant second', () => {
      given(new Log(facts.reviewOpened(REQUEST)).events)
        .when(facts.breakGlassGranted(REQUEST))
        .thenAssert((events) => expect(dataOf(events).map((data) => data.template)).toEqual(['break_glass_granted']));
    });

    it('asks nothing for a grant whose review is not known yet, nor for a recertification review', () => {
      given([]).when(facts.breakGlassGranted(REQUEST)).thenNothing();
      const recertification = registry.encode(
        registry.latestOf('iga.approval.review-opened'),
        { reviewId: 'rev-1', kind: 'recertification', requestId: 'req-other', grantIds: ['req-other:ent-x'], reviewerIds: ['lead-cy'], dueAt: REVIEW_DUE },
        {
          id: 'rec-1',
          source: 'grantline/approval',
          time: FACT_TIME,
          subject: 'req-other',
          correlationid: 'req-other',
          actor: { kind: 'service', id: 'approval' },
        },
      );
      given(new Log(facts.breakGlassGranted(REQUEST)).events)
        .when(recertification)
        .thenNothing();
    });

    it('a duplicate fact (either half) asks nothing the second time', () => {
      const log = new Log(facts.breakGlassGranted(REQUEST));
      given(log.events)
        .when(facts.reviewOpened(REQUEST))
        .thenAssert((events) => expect(events).toHaveLength(1));
      log.handle(facts.reviewOpened(REQUEST));
      given(log.events).when(facts.reviewOpened(REQUEST)).thenNothing();
      log.handle(facts.reviewOpened(REQUEST));
      given(log.events).when(facts.breakGlassGranted(REQUEST)).thenNothing();
    });

    it('the same facts give the same envelope id in a fresh state (a redelivery after an aborted transaction)', () => {
      const first = new Log(facts.breakGlassGranted(REQUEST)).handle(facts.reviewOpened(REQUEST));
      given(new Log(facts.breakGlassGranted(REQUEST)).events)
        .when(facts.reviewOpened(REQUEST))
        .thenAssert((again) => expect(again.map((event) => event.id)).toEqual(first.map((event) => event.id)));
    });

    it('a state rebuilt with the notification it already asked for (replay of its own topic) asks nothing again', () => {
      const [asked] = new Log(facts.breakGlassGranted(REQUEST)).handle(facts.reviewOpened(REQUEST));
      given(new Log(asked!, facts.breakGlassGranted(REQUEST)).events)
        .when(facts.reviewOpened(REQUEST))
        .thenNothing();
    });

    it('decides the same whether or not the fact is folded already (replayed at start, redelivered live)', () => {
      const review = facts.reviewOpened(REQUEST);
      given([facts.breakGlassGranted(REQUEST)])
        .when(review)
        .thenAssert((events) =>
          given([facts.breakGlassGranted(REQUEST), review])
            .when(review)
            .then(events),
        );
    });
  });

  describe('provisioning_failed', () => {
    it('a terminal provision failure alerts the alert group, exactly as the provisioning service did', () => {
      const failed = facts.provisioningFailed(REQUEST, { terminal: true, attempts: 3 });
      given(new Log(facts.grantCreated(REQUEST)).events)
        .when(failed)
        .thenAssert(([alert, ...more]) => {
          expect(more).toEqual([]);
          expect(alert!.data).toEqual({
            notificationId: `alert:${GRANT}:provision`,
            channel: 'chat',
            audience: { groupId: 'security-oncall' },
            template: 'provisioning_failed',
            refs: { requestId: REQUEST, grantId: GRANT },
            params: { operation: 'provision', state: 'failed', connectorId: 'postgres', targetAccount: 'ada', code: 'target_account_missing', attempts: 3 },
          });
          expect(alert).toMatchObject({ subject: REQUEST, correlationid: REQUEST, causationid: failed.id, time: FACT_TIME });
        });
    });

    it('a terminal deprovision failure says the grant is irrevocable', () => {
      given(new Log(facts.grantCreated(REQUEST)).events)
        .when(facts.provisioningFailed(REQUEST, { terminal: true, operation: 'deprovision', attempts: 2 }))
        .thenAssert(([alert]) =>
          expect(alert!.data).toMatchObject({
            notificationId: `alert:${GRANT}:deprovision`,
            params: { operation: 'deprovision', state: 'irrevocable', attempts: 2 },
          }),
        );
    });

    it('a failure that will be retried alerts no one', () => {
      given(new Log(facts.grantCreated(REQUEST)).events)
        .when(facts.provisioningFailed(REQUEST, { terminal: false, attempts: 1 }))
        .thenNothing();
    });

    it('a duplicate terminal failure alerts once', () => {
      const log = new Log(facts.grantCreated(REQUEST));
      given(log.events)
        .when(facts.provisioningFailed(REQUEST, { terminal: true }))
        .thenAssert((events) => expect(events).toHaveLength(1));
      log.handle(facts.provisioningFailed(REQUEST, { terminal: true }));
      given(log.events)
        .when(facts.provisioningFailed(REQUEST, { terminal: true }))
        .thenNothing();
    });

    it('a grant it never saw created still alerts, naming the request from the fact and saying what is missing', () => {
      const failed = facts.provisioningFailed(REQUEST, { terminal: true });
      given([])
        .when(failed)
        .thenAssert((events) =>
          expect(dataOf(events)).toEqual([
            expect.objectContaining({
              refs: { requestId: REQUEST, grantId: GRANT },
              params: { operation: 'provision', state: 'failed', code: 'target_account_missing', attempts: 3 },
            }),
          ]),
        );
      expect(decider.explain(failed, decider.initialState())).toEqual([expect.stringContaining(GRANT)]);
    });
  });

  describe('access_drift_detected', () => {
    const at = (minute: number): string => `2026-01-10T09:${String(minute).padStart(2, '0')}:00.000Z`;
    const meta = (id: string, time: string, subject: string) => ({
      id,
      source: 'spec',
      time,
      subject,
      correlationid: subject,
      actor: { kind: 'service' as const, id: 'provisioning' },
    });
    /** What provisioning publishes for one reconciliation observed at `minute`: its findings, then its summary. */
    const reconciliation = (minute: number, findings: Partial<DriftDetectedData>[]): Envelope[] => [
      ...findings.map((finding, i) =>
        registry.encode(
          GrantDriftDetected,
          {
            connectorId: 'postgres',
            systemId: 'orders-db',
            kind: 'unexpected_in_target',
            targetAccount: 'mallory',
            externalRef: 'grantline_prod_read',
            detectedAt: at(minute),
            remediation: 'report_only',
            ...finding,
          },
          meta(`drift-${minute}-${i}`, at(minute), finding.grantId !== undefined ? REQUEST : `rpt-${minute}`),
        ),
      ),
      registry.encode(
        GrantReconciliationCompleted,
        {
          reportId: `rpt-${minute}`,
          connectorId: 'postgres',
          observedAt: at(minute),
          assignments: findings.length,
          grantsExpected: 0,
          drift: { missingInTarget: 0, unexpectedInTarget: findings.length, expiredButPresent: 0 },
        },
        meta(`completed-${minute}`, at(minute), `rpt-${minute}`),
      ),
    ];
    /** The notifications asked for as one reconciliation's facts arrive, one after the other. */
    const alertsOf = (log: Log, events: Envelope[]): NotificationRequestedData[] => dataOf(events.flatMap((event) => log.handle(event)));

    it('tells the security group when access no grant explains appears, with what and where, keyed by the report', () => {
      const [alert, ...more] = alertsOf(new Log(), reconciliation(1, [{}]));

      expect(more).toEqual([]);
      expect(alert).toEqual({
        notificationId: expect.any(String),
        channel: 'chat',
        audience: { groupId: 'security' },
        template: 'access_drift_detected',
        refs: { reportId: 'rpt-1' },
        params: {
          kind: 'unexpected_in_target',
          connectorId: 'postgres',
          systemId: 'orders-db',
          targetAccount: 'mallory',
          externalRef: 'grantline_prod_read',
          detectedAt: at(1),
          remediation: 'report_only',
        },
      });
    });

    it('tells the on-call group when a granted membership vanished, naming the grant and its request', () => {
      const [alert] = alertsOf(new Log(), reconciliation(1, [{ kind: 'missing_in_target', grantId: GRANT, targetAccount: 'ada' }]));

      expect(alert).toMatchObject({
        audience: { groupId: 'security-oncall' },
        refs: { grantId: GRANT, requestId: REQUEST },
        params: { kind: 'missing_in_target' },
      });
    });

    it('says it once while the drift stays open, and again when it comes back after it was gone', () => {
      const log = new Log();

      expect(alertsOf(log, reconciliation(1, [{}]))).toHaveLength(1);
      expect(alertsOf(log, reconciliation(2, [{}]))).toEqual([]);
      expect(alertsOf(log, reconciliation(3, [{}]))).toEqual([]);
      // fixed at minute 4 (the run finds nothing), granted by hand again by minute 5
      expect(alertsOf(log, reconciliation(4, []))).toEqual([]);
      expect(alertsOf(log, reconciliation(5, [{}]))).toHaveLength(1);
    });

    it('a second finding in the same run is its own alert; a redelivered finding is not a second one', () => {
      const log = new Log();
      const run = reconciliation(1, [{}, { targetAccount: 'eve' }]);

      expect(alertsOf(log, run).map((alert) => alert.params['targetAccount'])).toEqual(['mallory', 'eve']);
      expect(alertsOf(log, run)).toEqual([]);
    });

    it("a summary read before the previous run's findings does not hide a finding that is still open", () => {
      // the previous run's summary arrives, then this run's summary (other partition) before this run's finding
      const log = new Log(...reconciliation(1, [{}]));
      const [finding, summary] = reconciliation(2, [{}]);

      given(log.events).when(summary!).thenNothing();
      log.handle(summary!);
      given(log.events).when(finding!).thenNothing();
    });
  });
});
