import { ConnectorError } from './connector-error';
import { ConnectorRunner } from './connector-runner';
import type { ConnectorRunnerOptions } from './connector-runner';
import { InMemoryIdempotencyStore } from './idempotency-store.port';
import { InMemorySecretSink } from './secret-sink.port';
import { InMemoryConnector } from './testing/in-memory.connector';

const NOW = new Date('2030-01-01T00:00:00.000Z');

function setup(overrides: Partial<ConnectorRunnerOptions> = {}) {
  const connector = new InMemoryConnector({ id: 'fake', accounts: ['alice'], entitlements: ['gl_readers'], managedPrefix: 'gl_' });
  const store = new InMemoryIdempotencyStore();
  const sink = new InMemorySecretSink();
  const waits: number[] = [];
  const runner = new ConnectorRunner({
    connector,
    idempotencyStore: store,
    secretSink: sink,
    clock: { now: () => NOW },
    retry: { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 1_000, sleeper: async (ms) => void waits.push(ms), random: () => 0.5 },
    ...overrides,
  });
  const targetCalls = () => connector.calls.filter((c) => c !== 'listActualState').length;
  return { connector, store, sink, runner, waits, targetCalls };
}

const provision = { grantId: 'g1', operation: 'provision', idempotencyKey: 'g1:provision', account: 'alice', entitlementRef: 'gl_readers' };
const deprovision = { ...provision, operation: 'deprovision', idempotencyKey: 'g1:deprovision' };

describe('ConnectorRunner.handle', () => {
  it('given a provision command, when handled, then the target is granted and the outcome recorded', async () => {
    const { runner, connector, store } = setup();
    const result = await runner.handle(provision);
    expect(result).toEqual({
      status: 'provisioned',
      connectorId: 'fake',
      grantId: 'g1',
      idempotencyKey: 'g1:provision',
      account: 'alice',
      entitlementRef: 'gl_readers',
      changed: true,
      replayed: false,
      attempts: 1,
      completedAt: NOW.toISOString(),
    });
    expect((await connector.listActualState()).memberships).toEqual([{ account: 'alice', entitlementRef: 'gl_readers' }]);
    expect(store.size).toBe(1);
  });

  it('given a recorded key, when the command is redelivered, then the recorded result comes back and the target is untouched', async () => {
    const { runner, targetCalls } = setup();
    const first = await runner.handle(provision);
    const again = await runner.handle({ ...provision, expiresAt: '2030-02-01T00:00:00Z' });
    expect(again).toEqual({ ...first, replayed: true });
    expect(targetCalls()).toBe(1);
  });

  it('given a recorded key, when a different command reuses it, then it fails as a terminal conflict', async () => {
    const { runner, targetCalls } = setup();
    await runner.handle(provision);
    const result = await runner.handle({ ...provision, entitlementRef: 'gl_writers' });
    expect(result).toMatchObject({ status: 'failed', code: 'conflict', errorClass: 'terminal', attempts: 0 });
    expect(targetCalls()).toBe(1);
  });

  it('given the same key delivered twice at once, then the target is called once', async () => {
    const { runner, targetCalls } = setup();
    const [a, b] = await Promise.all([runner.handle(provision), runner.handle(provision)]);
    expect(a).toEqual(b);
    expect(targetCalls()).toBe(1);
  });

  it('deprovisions, and deprovisioning what was never granted succeeds unchanged', async () => {
    const { runner } = setup();
    await expect(runner.handle(deprovision)).resolves.toMatchObject({ status: 'deprovisioned', changed: false });
    const { runner: other } = setup();
    await other.handle(provision);
    await expect(other.handle(deprovision)).resolves.toMatchObject({ status: 'deprovisioned', changed: true });
  });

  it.each([
    ['a key not derived from grant and operation', { ...provision, idempotencyKey: 'g2:provision' }, 'idempotencyKey'],
    ['an unknown operation', { ...provision, operation: 'delete', idempotencyKey: 'g1:delete' }, 'operation'],
    ['a missing account', { ...provision, account: '' }, 'account'],
    ['not an object', 'provision alice', '(root)'],
  ])('rejects %s as invalid_request without touching the target', async (_label, command, field) => {
    const { runner, targetCalls, store } = setup();
    const result = await runner.handle(command);
    expect(result).toMatchObject({ status: 'failed', code: 'invalid_request', errorClass: 'terminal' });
    expect(result.status === 'failed' && result.message).toContain(field);
    expect(targetCalls()).toBe(0);
    expect(store.size).toBe(0);
  });

  it('retries a retriable failure with backoff and succeeds', async () => {
    const { runner, connector, waits } = setup();
    connector.failNext(new ConnectorError('unavailable', 'blip'), new ConnectorError('timeout', 'slow'));
    await expect(runner.handle(provision)).resolves.toMatchObject({ status: 'provisioned', attempts: 3 });
    expect(waits).toEqual([50, 100]);
  });

  it('fails a terminal error at once and does not record it, so the key can be retried after a fix', async () => {
    const { runner, connector, store } = setup();
    connector.failNext(new ConnectorError('permission_denied', 'connector lacks ADMIN OPTION'));
    const failed = await runner.handle(provision);
    expect(failed).toEqual({
      status: 'failed',
      connectorId: 'fake',
      grantId: 'g1',
      idempotencyKey: 'g1:provision',
      errorClass: 'terminal',
      code: 'permission_denied',
      message: 'connector lacks ADMIN OPTION',
      attempts: 1,
      exhausted: false,
      completedAt: NOW.toISOString(),
    });
    expect(store.size).toBe(0);
    await expect(runner.handle(provision)).resolves.toMatchObject({ status: 'provisioned', replayed: false });
  });

  it('reports an outage that outlasts the attempts as failed and exhausted', async () => {
    const { runner, connector, waits } = setup();
    connector.setOutage(true);
    await expect(runner.handle(provision)).resolves.toMatchObject({
      status: 'failed',
      errorClass: 'retriable',
      code: 'unavailable',
      attempts: 4,
      exhausted: true,
    });
    expect(waits).toEqual([50, 100, 200]);
  });
});

describe('ConnectorRunner.issueCredential', () => {
  const request = {
    credentialId: 'c1',
    idempotencyKey: 'c1:issue',
    type: 'database_role',
    grantId: 'grant-c1',
    holders: ['owner-1'],
    account: 'svc_ci',
    entitlementRefs: ['gl_readers'],
    expiresAt: '2030-01-01T00:15:00.000Z',
  };

  it('returns reference, fingerprint and expiry; the secret goes only to the sink', async () => {
    const { runner, sink } = setup();
    const result = await runner.issueCredential(request);
    expect(result).toMatchObject({
      status: 'credential_issued',
      credential: { credentialId: 'c1', account: 'svc_ci', secretRef: 'memory://fake/c1', expiresAt: request.expiresAt },
    });
    const secret = sink.read('memory://fake/c1') ?? '';
    expect(secret).not.toBe('');
    expect(JSON.stringify(result)).not.toContain(secret);
  });

  it('replays a repeated issuance without minting a second secret', async () => {
    const { runner, connector } = setup();
    const first = await runner.issueCredential(request);
    const again = await runner.issueCredential(request);
    expect(again).toEqual({ ...first, replayed: true });
    expect(connector.calls.filter((c) => c === 'issueCredential')).toHaveLength(1);
  });

  it('fails terminally when no sink is configured', async () => {
    const { runner } = setup({ secretSink: undefined });
    await expect(runner.issueCredential(request)).resolves.toMatchObject({ status: 'failed', code: 'invalid_request' });
  });
});

describe('ConnectorRunner.reportActualState', () => {
  it('reports what the target holds now', async () => {
    const { runner } = setup();
    await runner.handle(provision);
    await expect(runner.reportActualState()).resolves.toEqual({
      status: 'actual_state',
      connectorId: 'fake',
      memberships: [{ account: 'alice', entitlementRef: 'gl_readers' }],
      attempts: 1,
      observedAt: NOW.toISOString(),
    });
  });

  it('stamps the report with the instant just before the successful read, not after it', async () => {
    let seconds = 0;
    // every reading of the clock is one second later than the previous one
    const clock = { now: () => new Date(NOW.getTime() + 1000 * seconds++) };
    const { runner, connector } = setup({ clock });
    const list = connector.listActualState.bind(connector);
    let clockWhenRead = -1;
    connector.listActualState = async (scope) => {
      clockWhenRead = seconds;
      return list(scope);
    };

    const report = await runner.reportActualState();

    expect(report).toMatchObject({ status: 'actual_state' });
    // the last reading before the list started is the observation instant
    expect(report).toMatchObject({ observedAt: new Date(NOW.getTime() + 1000 * (clockWhenRead - 1)).toISOString() });
  });

  it('reports failure instead of an empty state when the target is down', async () => {
    const { runner, connector } = setup();
    connector.setOutage(true);
    await expect(runner.reportActualState()).resolves.toMatchObject({ status: 'failed', code: 'unavailable' });
  });
});
