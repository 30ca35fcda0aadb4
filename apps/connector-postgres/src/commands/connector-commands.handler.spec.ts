import {
  ConnectorDeprovisioned,
  ConnectorDeprovisionRequested,
  ConnectorOperationFailed,
  ConnectorProvisioned,
  ConnectorProvisionRequested,
  connectorResultsTopic,
  registry,
  topicOf,
} from '@grantline/contracts';
import type { DeprovisionRequestedData, Envelope, ProvisionRequestedData } from '@grantline/contracts';
import { ConnectorRunner, InMemoryConnector, InMemoryIdempotencyStore } from '@grantline/connector-sdk';
import { ConnectorCommandsHandler } from './connector-commands.handler';
import type { ConnectorRuntime } from './connector-runtime';

const GRANT = 'req-1:ent-1';
const meta = (id: string) => ({ id, source: 'spec', time: '2026-01-01T00:00:00.000Z', subject: 'req-1', correlationid: 'req-1', actor: { kind: 'service' as const, id: 'provisioning' } });
const provision = (id = 'cmd-event-1'): Envelope<ProvisionRequestedData> =>
  registry.encode(
    ConnectorProvisionRequested,
    { commandId: `${GRANT}:provision:1`, connectorId: 'postgres', grantId: GRANT, targetAccount: 'ada', entitlementRef: 'grantline_read', idempotencyKey: `${GRANT}:provision`, expiresAt: '2026-02-01T00:00:00.000Z' },
    meta(id),
  ) as Envelope<ProvisionRequestedData>;
const deprovision = (): Envelope<DeprovisionRequestedData> =>
  registry.encode(
    ConnectorDeprovisionRequested,
    { commandId: `${GRANT}:deprovision:1`, connectorId: 'postgres', grantId: GRANT, targetAccount: 'ada', entitlementRef: 'grantline_read', idempotencyKey: `${GRANT}:deprovision`, reason: 'expiry' },
    meta('cmd-event-2'),
  ) as Envelope<DeprovisionRequestedData>;

function handlerWith(connector: InMemoryConnector): ConnectorCommandsHandler {
  const runner = new ConnectorRunner({
    connector,
    idempotencyStore: new InMemoryIdempotencyStore(),
    retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1, sleeper: async () => undefined },
  });
  const runtime = { runner, config: { connectorId: 'postgres' } } as unknown as ConnectorRuntime;
  return new ConnectorCommandsHandler(runtime, registry);
}

describe('ConnectorCommandsHandler', () => {
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
});
