import { GrantDriftDetected, GrantReconciliationCompleted, NotificationRequested, TOPICS, registry } from '@grantline/contracts';
import type { DriftDetectedData, Envelope, NotificationRequestedData } from '@grantline/contracts';
import { specEventId } from '../testing/event-id';
import { FACT_TIME, NotifierFacts, REVIEW_DUE } from '../testing/notifier-facts';
import { NOTIFIER_SOURCE, derive } from './notifier.derive';
import type { DeriveContext } from './notifier.derive';
import { NotifierState } from './notifier.state';

const context: DeriveContext = { registry, eventId: specEventId, securityGroupId: 'security', alertGroupId: 'security-oncall' };
const facts = new NotifierFacts();
const REQUEST = 'req-0001';
const GRANT = 'req-0001:ent-orders-read';

/** The service's loop without I/O: fold the input, derive, fold what was derived. */
class World {
  readonly state = new NotifierState();

  given(...events: Envelope[]): this {
    for (const event of events) this.when(event);
    return this;
  }

  when(event: Envelope): Envelope<NotificationRequestedData>[] {
    this.state.apply(event);
    const { events } = derive(event, this.state, context);
    for (const output of events) this.state.apply(output);
    return events as Envelope<NotificationRequestedData>[];
  }
}

describe('notifier derivation', () => {
  describe('break_glass_granted', () => {
    it('asks the security group once the grant and its review are both known, exactly as the approval service did', () => {
      const world = new World().given(facts.breakGlassGranted(REQUEST));
      const review = facts.reviewOpened(REQUEST, ['lead-cy', 'lead-di']);
      const [notice, ...more] = world.when(review);

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
      expect(notice).toMatchObject({ source: NOTIFIER_SOURCE, subject: REQUEST, correlationid: REQUEST, causationid: review.id, time: FACT_TIME, actor: { kind: 'service', id: 'notifier' } });
      expect(registry.latestOf(NotificationRequested.name).topic).toBe(TOPICS.notifications);
    });

    it('joins in either order: the review first, the grant second', () => {
      const world = new World().given(facts.reviewOpened(REQUEST));
      expect(world.when(facts.breakGlassGranted(REQUEST)).map((event) => event.data.template)).toEqual(['break_glass_granted']);
    });

    it('asks nothing for a grant whose review is not known yet, nor for a recertification review', () => {
      const world = new World();
      expect(world.when(facts.breakGlassGranted(REQUEST))).toEqual([]);
      const recertification = registry.encode(
        registry.latestOf('iga.approval.review-opened'),
        { reviewId: 'rev-1', kind: 'recertification', requestId: 'req-other', grantIds: ['req-other:ent-x'], reviewerIds: ['lead-cy'], dueAt: REVIEW_DUE },
        { id: 'rec-1', source: 'grantline/approval', time: FACT_TIME, subject: 'req-other', correlationid: 'req-other', actor: { kind: 'service', id: 'approval' } },
      );
      expect(world.when(recertification)).toEqual([]);
    });

    it('a duplicate fact (either half) asks nothing the second time', () => {
      const world = new World().given(facts.breakGlassGranted(REQUEST));
      expect(world.when(facts.reviewOpened(REQUEST))).toHaveLength(1);
      expect(world.when(facts.reviewOpened(REQUEST))).toEqual([]);
      expect(world.when(facts.breakGlassGranted(REQUEST))).toEqual([]);
    });

    it('the same facts give the same envelope id in a fresh state (a redelivery after an aborted transaction)', () => {
      const first = new World().given(facts.breakGlassGranted(REQUEST)).when(facts.reviewOpened(REQUEST));
      const again = new World().given(facts.breakGlassGranted(REQUEST)).when(facts.reviewOpened(REQUEST));
      expect(again.map((event) => event.id)).toEqual(first.map((event) => event.id));
    });

    it('a state rebuilt with the notification it already asked for (replay of its own topic) asks nothing again', () => {
      const [asked] = new World().given(facts.breakGlassGranted(REQUEST)).when(facts.reviewOpened(REQUEST));
      const restarted = new World().given(asked!, facts.breakGlassGranted(REQUEST));
      expect(restarted.when(facts.reviewOpened(REQUEST))).toEqual([]);
    });
  });

  describe('provisioning_failed', () => {
    it('a terminal provision failure alerts the alert group, exactly as the provisioning service did', () => {
      const world = new World().given(facts.grantCreated(REQUEST));
      const failed = facts.provisioningFailed(REQUEST, { terminal: true, attempts: 3 });
      const [alert, ...more] = world.when(failed);

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

    it('a terminal deprovision failure says the grant is irrevocable', () => {
      const world = new World().given(facts.grantCreated(REQUEST));
      const [alert] = world.when(facts.provisioningFailed(REQUEST, { terminal: true, operation: 'deprovision', attempts: 2 }));
      expect(alert!.data).toMatchObject({ notificationId: `alert:${GRANT}:deprovision`, params: { operation: 'deprovision', state: 'irrevocable', attempts: 2 } });
    });

    it('a failure that will be retried alerts no one', () => {
      const world = new World().given(facts.grantCreated(REQUEST));
      expect(world.when(facts.provisioningFailed(REQUEST, { terminal: false, attempts: 1 }))).toEqual([]);
    });

    it('a duplicate terminal failure alerts once', () => {
      const world = new World().given(facts.grantCreated(REQUEST));
      expect(world.when(facts.provisioningFailed(REQUEST, { terminal: true }))).toHaveLength(1);
      expect(world.when(facts.provisioningFailed(REQUEST, { terminal: true }))).toEqual([]);
    });

    it('a grant it never saw created still alerts, naming the request from the fact and saying what is missing', () => {
      const state = new NotifierState();
      const failed = facts.provisioningFailed(REQUEST, { terminal: true });
      state.apply(failed);
      const result = derive(failed, state, context);
      expect(result.events.map((event) => event.data)).toEqual([
        expect.objectContaining({ refs: { requestId: REQUEST, grantId: GRANT }, params: { operation: 'provision', state: 'failed', code: 'target_account_missing', attempts: 3 } }),
      ]);
      expect(result.skipped).toEqual([expect.stringContaining(GRANT)]);
    });
  });

  describe('access_drift_detected', () => {
    const at = (minute: number): string => `2026-01-10T09:${String(minute).padStart(2, '0')}:00.000Z`;
    const meta = (id: string, time: string, subject: string) => ({ id, source: 'spec', time, subject, correlationid: subject, actor: { kind: 'service' as const, id: 'provisioning' } });
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
    const alertsOf = (world: World, events: Envelope[]): NotificationRequestedData[] => events.flatMap((event) => world.when(event)).map((event) => event.data);

    it('tells the security group when access no grant explains appears, with what and where, keyed by the report', () => {
      const world = new World();
      const [alert, ...more] = alertsOf(world, reconciliation(1, [{}]));

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
      const [alert] = alertsOf(new World(), reconciliation(1, [{ kind: 'missing_in_target', grantId: GRANT, targetAccount: 'ada' }]));

      expect(alert).toMatchObject({ audience: { groupId: 'security-oncall' }, refs: { grantId: GRANT, requestId: REQUEST }, params: { kind: 'missing_in_target' } });
    });

    it('says it once while the drift stays open, and again when it comes back after it was gone', () => {
      const world = new World();

      expect(alertsOf(world, reconciliation(1, [{}]))).toHaveLength(1);
      expect(alertsOf(world, reconciliation(2, [{}]))).toEqual([]);
      expect(alertsOf(world, reconciliation(3, [{}]))).toEqual([]);
      // fixed at minute 4 (the run finds nothing), granted by hand again by minute 5
      expect(alertsOf(world, reconciliation(4, []))).toEqual([]);
      expect(alertsOf(world, reconciliation(5, [{}]))).toHaveLength(1);
    });

    it('a second finding in the same run is its own alert; a redelivered finding is not a second one', () => {
      const world = new World();
      const run = reconciliation(1, [{}, { targetAccount: 'eve' }]);

      expect(alertsOf(world, run).map((alert) => alert.params['targetAccount'])).toEqual(['mallory', 'eve']);
      expect(alertsOf(world, run)).toEqual([]);
    });

    it('a summary read before the previous run\'s findings does not hide a finding that is still open', () => {
      // the previous run's summary arrives, then this run's summary (other partition) before this run's finding
      const world = new World().given(...reconciliation(1, [{}]));
      const [finding, summary] = reconciliation(2, [{}]);

      expect(world.when(summary!)).toEqual([]);
      expect(world.when(finding!)).toEqual([]);
    });
  });
});
