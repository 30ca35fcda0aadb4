import { ConnectorError } from '../connector-error';
import type { ConnectorErrorClass, ConnectorErrorCode } from '../connector-error';
import { ConnectorRunner } from '../connector-runner';
import { idempotencyKeyOf } from '../connector.types';
import type { AccountDeactivationOperation, Connector, ConnectorOperation, ConnectorOperationKind } from '../connector.types';
import { InMemoryIdempotencyStore } from '../idempotency-store.port';
import { InMemorySecretSink, fingerprintSecret } from '../secret-sink.port';

/**
 * What a connector provides to be checked: a connector bound to an isolated slice of a real
 * (or fake) target, and names that exist there. Created fresh for every test.
 */
export interface ConformanceFixture {
  connector: Connector;
  /** Two accounts that exist in the target and hold none of the entitlements below. */
  accounts: readonly [string, string];
  /** Two managed entitlements that exist in the target. */
  entitlements: readonly [string, string];
  /** A name inside the managed set that does not exist in the target. */
  missingEntitlement: string;
  /** An existing entitlement outside the managed set, which the connector must refuse. */
  unmanagedEntitlement?: string;
  /** A connector for the same kind of target that cannot reach it (e.g. a closed port). */
  unreachableConnector(): Connector | Promise<Connector>;
  /** An account name that does not exist in the target (default: the first account with `x` appended). */
  missingAccount?: string;
  /** A fresh account name for credential issuance (not yet existing in the target). */
  newCredentialAccount?: string;
  dispose(): Promise<void>;
}

export type ConformanceFactory = () => Promise<ConformanceFixture>;

let sequence = 0;

function op(operation: ConnectorOperationKind, account: string, entitlementRef: string): ConnectorOperation {
  sequence += 1;
  const grantId = `grant-${process.pid}-${sequence}`;
  return { grantId, operation, idempotencyKey: idempotencyKeyOf(grantId, operation), account, entitlementRef };
}

function deactivation(identity: string, account: string): AccountDeactivationOperation {
  sequence += 1;
  const identityId = `${identity}-${process.pid}-${sequence}`;
  return { identityId, idempotencyKey: `${identityId}:deactivate`, account };
}

async function expectConnectorError(
  promise: Promise<unknown>,
  expected: { errorClass: ConnectorErrorClass; code?: ConnectorErrorCode },
): Promise<ConnectorError> {
  let caught: unknown;
  try {
    await promise;
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(ConnectorError);
  const error = caught as ConnectorError;
  expect({ errorClass: error.errorClass, code: error.code }).toMatchObject(expected);
  return error;
}

/** Wraps a connector to count what reaches the target. */
function counting(connector: Connector): { connector: Connector; touches: () => number } {
  let touches = 0;
  const wrapped: Connector = {
    id: connector.id,
    describe: () => connector.describe(),
    provision: (o) => ((touches += 1), connector.provision(o)),
    deprovision: (o) => ((touches += 1), connector.deprovision(o)),
    listActualState: (s) => connector.listActualState(s),
    healthCheck: () => connector.healthCheck(),
  };
  return { connector: wrapped, touches: () => touches };
}

/**
 * The behaviour every connector must show (STYLE point 6). Call it from a spec of the
 * connector's lib; an `.int.spec.ts` when the target is real.
 */
export function describeConnectorConformance(name: string, factory: ConformanceFactory): void {
  describe(`connector conformance: ${name}`, () => {
    let fx: ConformanceFixture;
    let connector: Connector;
    let a1: string;
    let a2: string;
    let e1: string;
    let e2: string;

    const listed = async (): Promise<string[]> => {
      const state = await connector.listActualState({ accounts: fx.accounts });
      return state.memberships.map((m) => `${m.account}>${m.entitlementRef}`).sort();
    };

    beforeEach(async () => {
      fx = await factory();
      connector = fx.connector;
      [a1, a2] = fx.accounts;
      [e1, e2] = fx.entitlements;
    });

    afterEach(async () => {
      await fx?.dispose();
    });

    it('describes provision and deprovision, and only claims credentials it can issue', () => {
      const caps = connector.describe();
      expect(caps.operations).toEqual(expect.arrayContaining(['provision', 'deprovision']));
      expect(caps.issueCredential).toBe(typeof connector.issueCredential === 'function');
      expect(connector.id).toMatch(/^[a-z0-9][a-z0-9-]*$/);
    });

    it('reports healthy when the target is reachable', async () => {
      await expect(connector.healthCheck()).resolves.toMatchObject({ status: 'up' });
    });

    it('lists nothing for accounts that hold nothing', async () => {
      expect(await listed()).toEqual([]);
    });

    it('grants twice as one grant', async () => {
      await expect(connector.provision(op('provision', a1, e1))).resolves.toEqual({ changed: true });
      expect(await listed()).toEqual([`${a1}>${e1}`]);
      await expect(connector.provision(op('provision', a1, e1))).resolves.toEqual({ changed: false });
      expect(await listed()).toEqual([`${a1}>${e1}`]);
    });

    it('lists exactly what was granted, narrowed by scope', async () => {
      await connector.provision(op('provision', a1, e1));
      await connector.provision(op('provision', a1, e2));
      await connector.provision(op('provision', a2, e2));
      expect(await listed()).toEqual([`${a1}>${e1}`, `${a1}>${e2}`, `${a2}>${e2}`].sort());

      const onlyE2 = await connector.listActualState({ accounts: fx.accounts, entitlementRefs: [e2] });
      expect(onlyE2.memberships.map((m) => m.account).sort()).toEqual([a1, a2].sort());
      const onlyA2 = await connector.listActualState({ accounts: [a2] });
      expect(onlyA2.memberships).toEqual([{ account: a2, entitlementRef: e2 }]);
    });

    it('revokes an unknown grant as a no-op', async () => {
      await connector.provision(op('provision', a2, e1));
      await expect(connector.deprovision(op('deprovision', a1, e1))).resolves.toEqual({ changed: false });
      expect(await listed()).toEqual([`${a2}>${e1}`]);
    });

    it('revokes a grant it made, and a second revoke is a no-op', async () => {
      await connector.provision(op('provision', a1, e1));
      await connector.provision(op('provision', a1, e2));
      await expect(connector.deprovision(op('deprovision', a1, e1))).resolves.toEqual({ changed: true });
      expect(await listed()).toEqual([`${a1}>${e2}`]);
      await expect(connector.deprovision(op('deprovision', a1, e1))).resolves.toEqual({ changed: false });
      expect(await listed()).toEqual([`${a1}>${e2}`]);
    });

    it('maps a missing entitlement to a terminal not_found', async () => {
      await expectConnectorError(connector.provision(op('provision', a1, fx.missingEntitlement)), {
        errorClass: 'terminal',
        code: 'not_found',
      });
      expect(await listed()).toEqual([]);
    });

    it('refuses entitlements outside its managed set', async () => {
      if (fx.unmanagedEntitlement === undefined) {
        throw new Error('fixture must name an unmanagedEntitlement: every connector has to bound what it may grant');
      }
      await expectConnectorError(connector.provision(op('provision', a1, fx.unmanagedEntitlement)), {
        errorClass: 'terminal',
      });
      const state = await connector.listActualState({ accounts: [a1] });
      expect(state.memberships).toEqual([]);
    });

    it('answers a replayed idempotency key without touching the target', async () => {
      const spy = counting(connector);
      const runner = new ConnectorRunner({
        connector: spy.connector,
        idempotencyStore: new InMemoryIdempotencyStore(),
        retry: { maxAttempts: 1 },
      });
      const command = op('provision', a1, e1);
      const first = await runner.handle(command);
      expect(first).toMatchObject({ status: 'provisioned', changed: true, replayed: false });
      expect(spy.touches()).toBe(1);

      // Remove the grant behind the runner's back: a replay that reached the target would re-grant it.
      await connector.deprovision(op('deprovision', a1, e1));
      const second = await runner.handle(command);
      expect(second).toMatchObject({ status: 'provisioned', replayed: true, idempotencyKey: command.idempotencyKey });
      expect(spy.touches()).toBe(1);
      expect(await listed()).toEqual([]);
    });

    it('maps a target outage to a retriable error, and the runner reports it failed after its attempts', async () => {
      const down = await fx.unreachableConnector();
      await expectConnectorError(down.provision(op('provision', a1, e1)), { errorClass: 'retriable' });
      await expectConnectorError(down.listActualState({ accounts: [a1] }), { errorClass: 'retriable' });
      const health = await down.healthCheck();
      expect(health.status).toBe('down');
      if (health.status === 'down') expect(health.error.errorClass).toBe('retriable');

      const waits: number[] = [];
      const runner = new ConnectorRunner({
        connector: down,
        idempotencyStore: new InMemoryIdempotencyStore(),
        retry: { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 100, sleeper: async (ms) => void waits.push(ms) },
      });
      const result = await runner.handle(op('provision', a1, e1));
      expect(result).toMatchObject({ status: 'failed', errorClass: 'retriable', attempts: 3, exhausted: true });
      expect(waits).toHaveLength(2);
    });

    it('claims account deactivation exactly when it implements deactivateAccount', () => {
      expect(connector.describe().deactivateAccount ?? false).toBe(typeof connector.deactivateAccount === 'function');
    });

    it('deactivates an existing account once: a second time, and an account that does not exist, change nothing', async () => {
      const deactivate = connector.deactivateAccount?.bind(connector);
      if (!deactivate) {
        // Without the capability the runner refuses terminally, so a catalogue that asks too much is an alert.
        const runner = new ConnectorRunner({ connector, idempotencyStore: new InMemoryIdempotencyStore(), retry: { maxAttempts: 1 } });
        await expect(runner.deactivateAccount(deactivation('leaver', a1))).resolves.toMatchObject({
          status: 'failed',
          errorClass: 'terminal',
          code: 'invalid_request',
        });
        return;
      }
      await expect(deactivate(deactivation('leaver-1', a1))).resolves.toEqual({ changed: true });
      await expect(deactivate(deactivation('leaver-1', a1))).resolves.toEqual({ changed: false });
      await expect(deactivate(deactivation('leaver-2', fx.missingAccount ?? `${a1}x`))).resolves.toEqual({ changed: false });
    });

    it('answers a replayed deactivation from the idempotency store, and maps an outage to retriable', async () => {
      if (typeof connector.deactivateAccount !== 'function') return;
      const runner = new ConnectorRunner({ connector, idempotencyStore: new InMemoryIdempotencyStore(), retry: { maxAttempts: 1 } });
      const command = deactivation('leaver-3', a2);
      await expect(runner.deactivateAccount(command)).resolves.toMatchObject({ status: 'deactivated', changed: true, replayed: false });
      await expect(runner.deactivateAccount(command)).resolves.toMatchObject({ status: 'deactivated', changed: true, replayed: true });

      const down = await fx.unreachableConnector();
      const deactivateDown = down.deactivateAccount?.bind(down);
      if (!deactivateDown) throw new Error('the unreachable connector must be of the same kind (it lacks deactivateAccount)');
      await expectConnectorError(deactivateDown(deactivation('leaver-4', a1)), { errorClass: 'retriable' });
    });

    it('issues a credential as a reference and fingerprint, with the secret only in the sink', async () => {
      const issue = connector.issueCredential?.bind(connector);
      if (!issue) {
        expect(connector.describe().issueCredential).toBe(false);
        return;
      }
      const account = fx.newCredentialAccount;
      if (account === undefined) throw new Error('fixture must name newCredentialAccount for a credential-issuing connector');
      const sink = new InMemorySecretSink();
      const expiresAt = new Date(Date.now() + 15 * 60_000);
      const credential = await issue(
        {
          credentialId: `cred-${account}`,
          idempotencyKey: `cred-${account}:issue`,
          type: 'short_lived_token',
          grantId: `grant-${account}`,
          holders: ['owner-1'],
          account,
          entitlementRefs: [e1],
          expiresAt,
        },
        sink,
      );
      const secret = sink.read(credential.secretRef) ?? '';
      expect(secret.length).toBeGreaterThanOrEqual(16);
      expect(credential.fingerprint).toBe(fingerprintSecret(secret));
      expect(JSON.stringify(credential)).not.toContain(secret);
      // Never after the requested expiry; a format with whole seconds (a JWT's exp, a certificate's notAfter) may end
      // up to a second earlier.
      expect(credential.expiresAt.getTime()).toBeLessThanOrEqual(expiresAt.getTime());
      expect(credential.expiresAt.getTime()).toBeGreaterThan(expiresAt.getTime() - 1000);
      // The sink is told what it needs to hand the secret over: to whom, for which grant, of which type.
      expect(sink.stored(credential.secretRef)).toMatchObject({ grantId: `grant-${account}`, holders: ['owner-1'] });
      const state = await connector.listActualState({ accounts: [account] });
      expect(state.memberships).toEqual([{ account, entitlementRef: e1 }]);
    });
  });
}
