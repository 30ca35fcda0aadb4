import { CredentialRotatedDataSchema, RotationFailedDataSchema, RotationRequestedDataSchema } from '@grantline/contracts';
import type { RotationRequestedData } from '@grantline/contracts';
import { ConnectorError } from './connector-error';
import { ConnectorRunner } from './connector-runner';
import type { OperationOutcome, RotationOperation } from './connector.types';
import { runContractRotation } from './contract-bridge';
import { InMemoryIdempotencyStore } from './idempotency-store.port';
import { InMemoryConnector } from './testing/in-memory.connector';

const NOW = new Date('2030-01-01T00:00:00.000Z');

/** The in-memory target, able to rotate: it records each rotation and can fail the next ones. */
class RotatingConnector extends InMemoryConnector {
  readonly rotated: string[] = [];
  failures: ConnectorError[] = [];

  async rotateCredential(op: RotationOperation): Promise<OperationOutcome> {
    const failure = this.failures.shift();
    if (failure) throw failure;
    this.rotated.push(op.account);
    return { changed: true };
  }
}

const runnerOf = (connector: InMemoryConnector): ConnectorRunner =>
  new ConnectorRunner({
    connector,
    idempotencyStore: new InMemoryIdempotencyStore(),
    clock: { now: () => NOW },
    retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1, sleeper: async () => undefined },
  });

const command: RotationRequestedData = RotationRequestedDataSchema.parse({
  commandId: 'grant-1:rotate:1',
  connectorId: 'pg-main',
  grantId: 'grant-1',
  targetAccount: 'alice',
  reason: 'break_glass_ended',
  idempotencyKey: 'grant-1:rotate',
});

describe('rotation through the SDK', () => {
  it('given a connector that rotates, when a rotation command arrives twice, then the target rotates once and both answers are valid credential-rotated results', async () => {
    const connector = new RotatingConnector({ id: 'pg-main', accounts: ['alice'] });
    const runner = runnerOf(connector);
    const first = await runContractRotation(runner, command);
    const again = await runContractRotation(runner, command);
    expect(first).toEqual({
      kind: 'credential_rotated',
      data: {
        commandId: 'grant-1:rotate:1',
        connectorId: 'pg-main',
        grantId: 'grant-1',
        idempotencyKey: 'grant-1:rotate',
        completedAt: NOW.toISOString(),
        alreadyApplied: false,
      },
    });
    expect(again).toMatchObject({ kind: 'credential_rotated', data: { alreadyApplied: true } });
    expect(CredentialRotatedDataSchema.parse(first.data)).toEqual(first.data);
    expect(connector.rotated).toEqual(['alice']);
  });

  it('given a retriable target error, then the runner retries; exhausted, the result is a retriable rotation-failed', async () => {
    const connector = new RotatingConnector({ id: 'pg-main', accounts: ['alice'] });
    connector.failures = [new ConnectorError('unavailable', 'down')];
    expect(await runContractRotation(runnerOf(connector), command)).toMatchObject({ kind: 'credential_rotated' });

    const down = new RotatingConnector({ id: 'pg-main', accounts: ['alice'] });
    down.failures = [new ConnectorError('unavailable', 'down'), new ConnectorError('unavailable', 'still down')];
    const failed = await runContractRotation(runnerOf(down), command);
    expect(failed).toMatchObject({ kind: 'rotation_failed', data: { errorClass: 'retriable', code: 'unavailable', grantId: 'grant-1' } });
    expect(RotationFailedDataSchema.parse(failed.data)).toEqual(failed.data);
  });

  it('given a connector without rotateCredential, then the rotation fails terminally (never silently dropped)', async () => {
    const failed = await runContractRotation(runnerOf(new InMemoryConnector({ id: 'pg-main' })), command);
    expect(failed).toMatchObject({
      kind: 'rotation_failed',
      data: { errorClass: 'terminal', code: 'invalid_request', message: expect.stringContaining('cannot rotate') },
    });
  });

  it('given a command for another connector or a key not derived from the grant, then nothing touches the target', async () => {
    const connector = new RotatingConnector({ id: 'pg-main', accounts: ['alice'] });
    const runner = runnerOf(connector);
    expect(await runContractRotation(runner, { ...command, connectorId: 'ldap-main' })).toMatchObject({
      kind: 'rotation_failed',
      data: { code: 'invalid_request' },
    });
    expect(await runner.rotate({ grantId: 'grant-1', idempotencyKey: 'grant-2:rotate', account: 'alice' })).toMatchObject({
      status: 'failed',
      code: 'invalid_request',
    });
    expect(connector.rotated).toEqual([]);
  });
});
