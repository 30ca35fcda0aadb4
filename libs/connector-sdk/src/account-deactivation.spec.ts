import {
  AccountDeactivationCommandDataSchema,
  ConnectorAccountDeactivatedDataSchema,
  ConnectorAccountDeactivationFailedDataSchema,
} from '@grantline/contracts';
import type { AccountDeactivationCommandData } from '@grantline/contracts';
import { ConnectorError } from './connector-error';
import { ConnectorRunner } from './connector-runner';
import type { Connector } from './connector.types';
import { runContractDeactivation } from './contract-bridge';
import { InMemoryIdempotencyStore } from './idempotency-store.port';
import { InMemoryConnector } from './testing/in-memory.connector';

const NOW = new Date('2030-01-01T00:00:00.000Z');

const runnerOf = (connector: Connector): ConnectorRunner =>
  new ConnectorRunner({
    connector,
    idempotencyStore: new InMemoryIdempotencyStore(),
    clock: { now: () => NOW },
    retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1, sleeper: async () => undefined },
  });

const command: AccountDeactivationCommandData = AccountDeactivationCommandDataSchema.parse({
  commandId: 'alice:deactivate:in-memory:1',
  connectorId: 'in-memory',
  identityId: 'alice',
  targetAccount: 'alice',
  reason: 'offboarding',
  idempotencyKey: 'alice:deactivate',
});

/** The in-memory target without the capability: what a connector that never declared it looks like to the runner. */
function withoutDeactivation(connector: InMemoryConnector): Connector {
  return {
    id: connector.id,
    describe: () => ({ ...connector.describe(), deactivateAccount: false }),
    provision: (op) => connector.provision(op),
    deprovision: (op) => connector.deprovision(op),
    listActualState: (scope) => connector.listActualState(scope),
    healthCheck: () => connector.healthCheck(),
  };
}

describe('account deactivation through the runner and the contract bridge', () => {
  it('given an active account, when deactivated, then the result is account_deactivated (valid against the contract) and the account is inactive', async () => {
    const connector = new InMemoryConnector({ accounts: ['alice'] });

    const result = await runContractDeactivation(runnerOf(connector), command);

    expect(result).toEqual({
      kind: 'account_deactivated',
      data: {
        commandId: command.commandId,
        connectorId: 'in-memory',
        identityId: 'alice',
        idempotencyKey: 'alice:deactivate',
        completedAt: NOW.toISOString(),
        alreadyApplied: false,
      },
    });
    expect(ConnectorAccountDeactivatedDataSchema.safeParse(result.data).success).toBe(true);
    expect(connector.isActive('alice')).toBe(false);
  });

  it('given a redelivered command, then it is answered from the idempotency store without touching the target', async () => {
    const connector = new InMemoryConnector({ accounts: ['alice'] });
    const runner = runnerOf(connector);
    await runContractDeactivation(runner, command);
    const calls = connector.calls.filter((call) => call === 'deactivateAccount').length;

    const again = await runContractDeactivation(runner, command);

    expect(again).toMatchObject({ kind: 'account_deactivated', data: { alreadyApplied: true } });
    expect(connector.calls.filter((call) => call === 'deactivateAccount')).toHaveLength(calls);
  });

  it('given a connector without the capability, then the answer is a terminal invalid_request, never a silent success', async () => {
    const result = await runContractDeactivation(runnerOf(withoutDeactivation(new InMemoryConnector({ accounts: ['alice'] }))), command);

    expect(result).toMatchObject({ kind: 'account_deactivation_failed', data: { errorClass: 'terminal', code: 'invalid_request' } });
    expect(ConnectorAccountDeactivationFailedDataSchema.safeParse(result.data).success).toBe(true);
  });

  it('given a target that stays unavailable, then the failure is retriable after the runner used its attempts, and not recorded', async () => {
    const connector = new InMemoryConnector({ accounts: ['alice'] });
    connector.failNext(new ConnectorError('unavailable', 'down'), new ConnectorError('unavailable', 'down'));
    const runner = runnerOf(connector);

    await expect(runContractDeactivation(runner, command)).resolves.toMatchObject({
      kind: 'account_deactivation_failed',
      data: { errorClass: 'retriable', code: 'unavailable' },
    });
    // Failures are not recorded: the next delivery reaches the target again.
    await expect(runContractDeactivation(runner, command)).resolves.toMatchObject({ kind: 'account_deactivated', data: { alreadyApplied: false } });
  });

  it('given a command for another connector, then it is refused before anything touches the target', async () => {
    const connector = new InMemoryConnector({ accounts: ['alice'] });

    const result = await runContractDeactivation(runnerOf(connector), { ...command, connectorId: 'scim' });

    expect(result).toMatchObject({ kind: 'account_deactivation_failed', data: { code: 'invalid_request', errorClass: 'terminal' } });
    expect(connector.calls).not.toContain('deactivateAccount');
    expect(connector.isActive('alice')).toBe(true);
  });

  it('given a key that does not match the identity, then the runner refuses it (it would defeat idempotency)', async () => {
    const result = await runnerOf(new InMemoryConnector({ accounts: ['alice'] })).deactivateAccount({
      identityId: 'alice',
      idempotencyKey: 'bob:deactivate',
      account: 'alice',
    });

    expect(result).toMatchObject({ status: 'failed', code: 'invalid_request', errorClass: 'terminal' });
  });
});
