import {
  DeprovisionedDataSchema,
  OperationFailedDataSchema,
  ProvisionRequestedDataSchema,
  ProvisionedDataSchema,
  StateReportedDataSchema,
} from '@grantline/contracts';
import type { DeprovisionRequestedData, ProvisionRequestedData } from '@grantline/contracts';
import { ConnectorError } from './connector-error';
import { ConnectorRunner } from './connector-runner';
import { runContractCommand, stateReportPages } from './contract-bridge';
import { InMemoryIdempotencyStore } from './idempotency-store.port';
import { InMemorySecretSink } from './secret-sink.port';
import { InMemoryConnector } from './testing/in-memory.connector';

const NOW = new Date('2030-01-01T00:00:00.000Z');

function setup() {
  const connector = new InMemoryConnector({ id: 'pg-main', accounts: ['alice'], entitlements: ['gl_readers'], managedPrefix: 'gl_' });
  const sink = new InMemorySecretSink();
  const runner = new ConnectorRunner({
    connector,
    idempotencyStore: new InMemoryIdempotencyStore(),
    secretSink: sink,
    clock: { now: () => NOW },
    retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1, sleeper: async () => undefined },
  });
  return { connector, runner, sink };
}

const provisionData: ProvisionRequestedData = ProvisionRequestedDataSchema.parse({
  commandId: 'cmd-1',
  connectorId: 'pg-main',
  grantId: 'grant-1',
  targetAccount: 'alice',
  entitlementRef: 'gl_readers',
  idempotencyKey: 'grant-1:provision',
  expiresAt: '2030-01-02T00:00:00.000Z',
});
const deprovisionData: DeprovisionRequestedData = {
  commandId: 'cmd-2',
  connectorId: 'pg-main',
  grantId: 'grant-1',
  targetAccount: 'alice',
  entitlementRef: 'gl_readers',
  idempotencyKey: 'grant-1:deprovision',
  reason: 'expiry',
};

describe('contract bridge', () => {
  it('turns a provision command into a ConnectorProvisioned payload the catalogue accepts', async () => {
    const { runner, connector } = setup();
    const result = await runContractCommand(runner, { operation: 'provision', data: provisionData });
    expect(result.kind).toBe('provisioned');
    expect(ProvisionedDataSchema.parse(result.data)).toEqual({
      commandId: 'cmd-1',
      connectorId: 'pg-main',
      grantId: 'grant-1',
      idempotencyKey: 'grant-1:provision',
      completedAt: NOW.toISOString(),
      alreadyApplied: false,
    });
    expect((await connector.listActualState()).memberships).toEqual([{ account: 'alice', entitlementRef: 'gl_readers' }]);
  });

  it('marks a redelivered command alreadyApplied', async () => {
    const { runner } = setup();
    await runContractCommand(runner, { operation: 'provision', data: provisionData });
    const again = await runContractCommand(runner, { operation: 'provision', data: provisionData });
    expect(again).toMatchObject({ kind: 'provisioned', data: { alreadyApplied: true } });
  });

  it('turns a deprovision command into a ConnectorDeprovisioned payload', async () => {
    const { runner } = setup();
    const result = await runContractCommand(runner, { operation: 'deprovision', data: deprovisionData });
    expect(result.kind).toBe('deprovisioned');
    expect(DeprovisionedDataSchema.parse(result.data)).toMatchObject({ alreadyApplied: true, completedAt: NOW.toISOString() });
  });

  it('turns a failure into a ConnectorOperationFailed payload with class and code', async () => {
    const { runner, connector } = setup();
    connector.failNext(new ConnectorError('permission_denied', 'no ADMIN OPTION on gl_readers'));
    const result = await runContractCommand(runner, { operation: 'provision', data: provisionData });
    expect(result.kind).toBe('operation_failed');
    expect(OperationFailedDataSchema.parse(result.data)).toMatchObject({
      operation: 'provision',
      errorClass: 'terminal',
      code: 'permission_denied',
      failedAt: NOW.toISOString(),
    });
  });

  it('refuses a command addressed to another connector without touching the target', async () => {
    const { runner, connector } = setup();
    const result = await runContractCommand(runner, { operation: 'provision', data: { ...provisionData, connectorId: 'ldap' } });
    expect(result).toMatchObject({ kind: 'operation_failed', data: { code: 'invalid_request' } });
    expect(connector.calls).toEqual([]);
  });

  it('issues an NHI credential when asked, publishing reference and fingerprint only', async () => {
    const { runner, sink } = setup();
    const data = { ...provisionData, targetAccount: 'svc_ci', credential: { type: 'database_role' as const, ttlSeconds: 900, holders: ['owner-of-ci'] } };
    const result = await runContractCommand(runner, { operation: 'provision', data });
    const parsed = ProvisionedDataSchema.parse(result.data);
    expect(parsed.credential).toMatchObject({
      credentialId: 'grant-1',
      type: 'database_role',
      credentialRef: 'memory://pg-main/grant-1',
      expiresAt: '2030-01-01T00:15:00.000Z',
    });
    const secret = sink.read('memory://pg-main/grant-1') ?? '';
    expect(secret).not.toBe('');
    expect(JSON.stringify(result)).not.toContain(secret);
  });

  it("ends the credential at the grant's expiry exactly when the TTL is the grant's remaining time in whole seconds", async () => {
    const { runner } = setup();
    // The grant ends at 00:00:00.700 the next day; 86_399 s (the floor, counted a moment earlier) falls short of it.
    const data = {
      ...provisionData,
      expiresAt: '2030-01-02T00:00:00.700Z',
      targetAccount: 'svc_ci',
      credential: { type: 'database_role' as const, ttlSeconds: 86_400, holders: ['owner-of-ci'] },
    };
    const result = await runContractCommand(runner, { operation: 'provision', data });
    expect(result).toMatchObject({ data: { credential: { expiresAt: '2030-01-02T00:00:00.700Z' } } });
    const shorter = await runContractCommand(setup().runner, {
      operation: 'provision',
      data: { ...data, credential: { ...data.credential, ttlSeconds: 3_600 } },
    });
    expect(shorter).toMatchObject({ data: { credential: { expiresAt: '2030-01-01T01:00:00.000Z' } } });
  });

  it('caps the credential at the grant expiry', async () => {
    const { runner } = setup();
    const data = {
      ...provisionData,
      targetAccount: 'svc_ci',
      credential: { type: 'database_role' as const, ttlSeconds: 7 * 86_400, holders: ['owner-of-ci'] },
    };
    const result = await runContractCommand(runner, { operation: 'provision', data });
    expect(result).toMatchObject({ data: { credential: { expiresAt: '2030-01-02T00:00:00.000Z' } } });
  });

  it('pages an actual-state report the way the catalogue wants', async () => {
    const memberships = Array.from({ length: 5 }, (_, i) => ({ account: `u${i}`, entitlementRef: 'gl_readers' }));
    const report = { status: 'actual_state' as const, connectorId: 'pg-main', memberships, attempts: 1, observedAt: NOW.toISOString() };
    const pages = stateReportPages(report, 'report-1', 2);
    expect(pages.map((p) => [p.page, p.assignments.length, p.lastPage])).toEqual([
      [1, 2, false],
      [2, 2, false],
      [3, 1, true],
    ]);
    pages.forEach((page) => StateReportedDataSchema.parse(page));
    expect(stateReportPages({ ...report, memberships: [] }, 'report-2')).toEqual([expect.objectContaining({ page: 1, lastPage: true, assignments: [] })]);
  });
});
