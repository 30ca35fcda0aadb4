import {
  ConnectorAccountDeactivated,
  ConnectorAccountDeactivationFailed,
  ConnectorAccountDeactivationRequested,
  ConnectorDeprovisioned,
  ConnectorDeprovisionRequested,
  ConnectorOperationFailed,
  ConnectorProvisioned,
  ConnectorProvisionRequested,
  ConnectorStateReported,
  ConnectorStateReportRequested,
  connectorResultsTopic,
  registry,
  topicOf,
} from '@grantline/contracts';
import type {
  AccountDeactivationCommandData,
  DeprovisionRequestedData,
  Envelope,
  ProvisionRequestedData,
  StateReportedData,
  StateReportRequestedData,
} from '@grantline/contracts';
import { ConnectorRunner, InMemoryConnector, InMemoryIdempotencyStore } from '@grantline/connector-sdk';
import { ConnectorCommandsHandler } from './connector-commands.handler';
import type { ConnectorRuntime } from './connector-runtime';
import { ServiceMetrics } from '@grantline/service-kit';
import type { ConnectorHostConfig } from '../connector-host.config';
import { ConnectorMetrics } from './connector-metrics';

const GRANT = 'req-1:ent-1';
const meta = (id: string) => ({
  id,
  source: 'spec',
  time: '2026-01-01T00:00:00.000Z',
  subject: 'req-1',
  correlationid: 'req-1',
  actor: { kind: 'service' as const, id: 'provisioning' },
});
const provision = (id = 'cmd-event-1'): Envelope<ProvisionRequestedData> =>
  registry.encode(
    ConnectorProvisionRequested,
    {
      commandId: `${GRANT}:provision:1`,
      connectorId: 'postgres',
      grantId: GRANT,
      targetAccount: 'ada',
      entitlementRef: 'grantline_read',
      idempotencyKey: `${GRANT}:provision`,
      expiresAt: '2026-02-01T00:00:00.000Z',
    },
    meta(id),
  ) as Envelope<ProvisionRequestedData>;
const deprovision = (): Envelope<DeprovisionRequestedData> =>
  registry.encode(
    ConnectorDeprovisionRequested,
    {
      commandId: `${GRANT}:deprovision:1`,
      connectorId: 'postgres',
      grantId: GRANT,
      targetAccount: 'ada',
      entitlementRef: 'grantline_read',
      idempotencyKey: `${GRANT}:deprovision`,
      reason: 'expiry',
    },
    meta('cmd-event-2'),
  ) as Envelope<DeprovisionRequestedData>;

function handlerWith(connector: InMemoryConnector, metrics = new ServiceMetrics('connector-postgres')): ConnectorCommandsHandler {
  const runner = new ConnectorRunner({
    connector,
    idempotencyStore: new InMemoryIdempotencyStore(),
    retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1, sleeper: async () => undefined },
  });
  const runtime = { runner, config: { connectorId: 'postgres' } } as unknown as ConnectorRuntime;
  return new ConnectorCommandsHandler(runtime, registry, new ConnectorMetrics(metrics, { connectorId: 'postgres' } as ConnectorHostConfig));
}

describe('ConnectorCommandsHandler', () => {
  it('times every command by operation and outcome, and counts a failure by its code and class', async () => {
    const metrics = new ServiceMetrics('connector-postgres');
    const connector = new InMemoryConnector({ id: 'postgres', accounts: ['ada'], entitlements: ['grantline_read'] });
    const handler = handlerWith(connector, metrics);
    await handler.onProvision(provision());
    connector.setOutage(true);
    await handler.onDeprovision(deprovision());

    const text = await metrics.render();
    expect(text).toContain(
      'grantline_connector_operation_duration_seconds_count{service="connector-postgres",connector="postgres",operation="provision",outcome="provisioned"} 1',
    );
    expect(text).toContain(
      'grantline_connector_operation_duration_seconds_count{service="connector-postgres",connector="postgres",operation="deprovision",outcome="operation_failed"} 1',
    );
    expect(text).toMatch(
      /grantline_connector_operation_failures_total\{connector="postgres",operation="deprovision",code="unavailable",error_class="retriable",service="connector-postgres"\} 1/,
    );
  });

  it('answers a provision command with one provisioned result on the results topic, caused by the command', async () => {
    const connector = new InMemoryConnector({ id: 'postgres', accounts: ['ada'], entitlements: ['grantline_read'] });
    const [result, ...rest] = await handlerWith(connector).onProvision(provision());
    expect(rest).toEqual([]);
    expect(result).toMatchObject({ type: ConnectorProvisioned.type, causationid: 'cmd-event-1', subject: 'req-1', correlationid: 'req-1' });
    expect(result!.data).toMatchObject({ grantId: GRANT, commandId: `${GRANT}:provision:1`, alreadyApplied: false });
    expect(topicOf(ConnectorProvisioned, result!.data as never)).toBe(connectorResultsTopic('postgres'));
  });

  it('a redelivered command is answered from the idempotency store under the same event id', async () => {
    const connector = new InMemoryConnector({ id: 'postgres', accounts: ['ada'], entitlements: ['grantline_read'] });
    const handler = handlerWith(connector);
    const [first] = await handler.onProvision(provision());
    const [second] = await handler.onProvision(provision());
    expect(second!.id).toBe(first!.id);
    expect(second!.data).toMatchObject({ alreadyApplied: true });
    expect(connector.calls.filter((call) => call === 'provision')).toHaveLength(1);
  });

  it('deprovision → deprovisioned', async () => {
    const connector = new InMemoryConnector({ id: 'postgres', accounts: ['ada'], entitlements: ['grantline_read'] });
    const handler = handlerWith(connector);
    await handler.onProvision(provision());
    const [result] = await handler.onDeprovision(deprovision());
    expect(result).toMatchObject({ type: ConnectorDeprovisioned.type });
  });

  it('an outage ends in one operation-failed result (retriable, after the runner retried), never a throw', async () => {
    const connector = new InMemoryConnector({ id: 'postgres', accounts: ['ada'], entitlements: ['grantline_read'] });
    connector.setOutage(true);
    const [result] = await handlerWith(connector).onProvision(provision());
    expect(result).toMatchObject({ type: ConnectorOperationFailed.type });
    expect(result!.data).toMatchObject({ errorClass: 'retriable', operation: 'provision', grantId: GRANT });
  });

  it('a missing entitlement is a terminal failure', async () => {
    const connector = new InMemoryConnector({ id: 'postgres', accounts: ['ada'], entitlements: [] });
    const [result] = await handlerWith(connector).onProvision(provision());
    expect(result!.data).toMatchObject({ errorClass: 'terminal', code: 'not_found' });
  });

  describe('an account deactivation request (a leaver)', () => {
    const deactivation = (id = 'deactivate-event-1'): Envelope<AccountDeactivationCommandData> =>
      registry.encode(
        ConnectorAccountDeactivationRequested,
        {
          commandId: 'ada:deactivate:postgres:1',
          connectorId: 'postgres',
          identityId: 'ada',
          targetAccount: 'ada',
          reason: 'offboarding',
          idempotencyKey: 'ada:deactivate',
        },
        { ...meta(id), subject: 'ada', correlationid: 'ada' },
      ) as Envelope<AccountDeactivationCommandData>;

    it('answers with one account-deactivated result on the results topic, caused by the command and keyed by the identity', async () => {
      const metrics = new ServiceMetrics('connector-postgres');
      const connector = new InMemoryConnector({ id: 'postgres', accounts: ['ada'] });
      const handler = handlerWith(connector, metrics);

      const [result, ...rest] = await handler.onAccountDeactivationRequested(deactivation());
      const [again] = await handler.onAccountDeactivationRequested(deactivation());

      expect(rest).toEqual([]);
      expect(result).toMatchObject({ type: ConnectorAccountDeactivated.type, causationid: 'deactivate-event-1', subject: 'ada', correlationid: 'ada' });
      expect(result!.data).toMatchObject({ identityId: 'ada', alreadyApplied: false });
      expect(topicOf(ConnectorAccountDeactivated, result!.data as never)).toBe(connectorResultsTopic('postgres'));
      expect(connector.isActive('ada')).toBe(false);
      // A redelivery is answered under the same id, from the idempotency store.
      expect(again!.id).toBe(result!.id);
      expect(connector.calls.filter((call) => call === 'deactivateAccount')).toHaveLength(1);
      expect(await metrics.render()).toContain('operation="deactivate",outcome="account_deactivated"} 2');
    });

    it('an outage ends in one account-deactivation-failed result (retriable), never a throw', async () => {
      const connector = new InMemoryConnector({ id: 'postgres', accounts: ['ada'] });
      connector.setOutage(true);
      const [result] = await handlerWith(connector).onAccountDeactivationRequested(deactivation());
      expect(result).toMatchObject({ type: ConnectorAccountDeactivationFailed.type });
      expect(result!.data).toMatchObject({ errorClass: 'retriable', code: 'unavailable', identityId: 'ada' });
    });
  });

  describe('a state report request (reconciliation)', () => {
    const request = (): Envelope<StateReportRequestedData> =>
      registry.encode(
        ConnectorStateReportRequested,
        { reportId: 'rpt-1', connectorId: 'postgres', requestedAt: '2026-01-01T00:00:00.000Z' },
        { ...meta('report-request-1'), subject: 'rpt-1', correlationid: 'rpt-1' },
      ) as Envelope<StateReportRequestedData>;

    it('answers with the memberships of the managed roles, in pages of 1000 under the report id, the last one marked', async () => {
      const accounts = Array.from({ length: 1001 }, (_, i) => `acct_${i}`);
      const connector = new InMemoryConnector({ id: 'postgres', accounts, entitlements: ['grantline_read'] });
      for (const account of accounts) {
        await connector.provision({
          grantId: `g-${account}`,
          operation: 'provision',
          idempotencyKey: `g-${account}:provision`,
          account,
          entitlementRef: 'grantline_read',
        });
      }

      const pages = await handlerWith(connector).onStateReportRequested(request());

      expect(pages.map((page) => page.type)).toEqual([ConnectorStateReported.type, ConnectorStateReported.type]);
      const data = pages.map((page) => page.data as StateReportedData);
      expect(data.map(({ page, lastPage, reportId }) => ({ page, lastPage, reportId }))).toEqual([
        { page: 1, lastPage: false, reportId: 'rpt-1' },
        { page: 2, lastPage: true, reportId: 'rpt-1' },
      ]);
      expect(
        data
          .flatMap((page) => page.assignments)
          .map((a) => a.targetAccount)
          .sort(),
      ).toEqual([...accounts].sort());
      expect(new Set(pages.map((page) => page.subject))).toEqual(new Set(['rpt-1']));
      expect(topicOf(ConnectorStateReported, data[0]!)).toBe(connectorResultsTopic('postgres'));
      // a redelivered request answers under the same ids
      expect((await handlerWith(connector).onStateReportRequested(request())).map((page) => page.id)).toEqual(pages.map((page) => page.id));
    });

    it('an empty target is one last page with no assignments', async () => {
      const connector = new InMemoryConnector({ id: 'postgres', accounts: ['ada'], entitlements: ['grantline_read'] });
      const [only, ...rest] = await handlerWith(connector).onStateReportRequested(request());
      expect(rest).toEqual([]);
      expect(only!.data).toMatchObject({ page: 1, lastPage: true, assignments: [] });
    });

    it('an unreadable target is an error, never an empty report that would say all access is gone', async () => {
      const connector = new InMemoryConnector({ id: 'postgres', accounts: ['ada'], entitlements: ['grantline_read'] });
      connector.setOutage(true);
      await expect(handlerWith(connector).onStateReportRequested(request())).rejects.toThrow(/cannot read the actual state of postgres: unavailable/);
    });
  });
});
