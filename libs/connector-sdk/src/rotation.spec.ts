import { CredentialRotatedV2DataSchema, RotationFailedV2DataSchema, RotationRequestedV2DataSchema } from '@grantline/contracts';
import type { RotationRequestedV2Data } from '@grantline/contracts';
import { ConnectorError } from './connector-error';
import { ConnectorRunner } from './connector-runner';
import type { ConnectorCapabilities, RotationOperation, RotationOutcome } from './connector.types';
import { runContractRotation } from './contract-bridge';
import { InMemoryIdempotencyStore } from './idempotency-store.port';
import { InMemorySecretSink, fingerprintSecret } from './secret-sink.port';
import type { SecretSink } from './secret-sink.port';
import { InMemoryConnector } from './testing/in-memory.connector';

const NOW = new Date('2030-01-01T00:00:00.000Z');

/** The in-memory target, able to rotate: it records each rotation and can fail the next ones. */
class RotatingConnector extends InMemoryConnector {
  readonly rotated: string[] = [];
  failures: ConnectorError[] = [];

  async rotateCredential(op: RotationOperation): Promise<RotationOutcome> {
    const failure = this.failures.shift();
    if (failure) throw failure;
    this.rotated.push(op.account);
    return { changed: true };
  }
}

/** A target that replaces credentials: the new secret goes to the sink, the grant's first credential is retired. */
class ReplacingConnector extends RotatingConnector {
  override describe(): ConnectorCapabilities {
    return { ...super.describe(), rotateCredential: true, replaceCredential: true };
  }

  override async rotateCredential(op: RotationOperation, sink?: SecretSink): Promise<RotationOutcome> {
    const replacement = op.replacement!;
    this.rotated.push(op.account);
    const secret = `new-secret-of-${replacement.credentialId}`;
    const secretRef = await sink!.put({
      connectorId: this.id,
      credentialId: replacement.credentialId,
      type: replacement.type,
      grantId: op.grantId,
      holders: replacement.holders,
      secret,
      expiresAt: replacement.expiresAt,
    });
    return {
      changed: true,
      issued: {
        credentialId: replacement.credentialId,
        account: op.account,
        secretRef,
        fingerprint: fingerprintSecret(secret),
        expiresAt: replacement.expiresAt,
      },
      retired: [op.grantId],
    };
  }
}

const runnerOf = (connector: InMemoryConnector, secretSink?: SecretSink): ConnectorRunner =>
  new ConnectorRunner({
    connector,
    idempotencyStore: new InMemoryIdempotencyStore(),
    ...(secretSink ? { secretSink } : {}),
    clock: { now: () => NOW },
    retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1, sleeper: async () => undefined },
  });

const command: RotationRequestedV2Data = RotationRequestedV2DataSchema.parse({
  commandId: 'grant-1:rotate:1',
  connectorId: 'pg-main',
  grantId: 'grant-1',
  targetAccount: 'alice',
  reason: 'break_glass_ended',
  rotation: 1,
  idempotencyKey: 'grant-1:rotate',
});

const EXPIRES = '2030-01-01T08:00:00.000Z';
const replacing: RotationRequestedV2Data = RotationRequestedV2DataSchema.parse({
  commandId: 'grant-1.r2:rotate:1',
  connectorId: 'pg-main',
  grantId: 'grant-1',
  targetAccount: 'alice',
  entitlementRef: 'deploy:orders',
  reason: 'owner_changed',
  rotation: 2,
  idempotencyKey: 'grant-1.r2:rotate',
  credential: { credentialId: 'grant-1.r2', type: 'short_lived_token', holders: ['bob', 'svc-deployer'], expiresAt: EXPIRES },
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
        rotation: 1,
        completedAt: NOW.toISOString(),
        alreadyApplied: false,
      },
    });
    expect(again).toMatchObject({ kind: 'credential_rotated', data: { alreadyApplied: true } });
    expect(CredentialRotatedV2DataSchema.parse(first.data)).toEqual(first.data);
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
    expect(RotationFailedV2DataSchema.parse(failed.data)).toEqual(failed.data);
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

  it('given a replacing rotation, when it arrives twice, then one new credential is sealed for the new holders, the old one is discarded, and the result names the new one (reference and fingerprint only)', async () => {
    const connector = new ReplacingConnector({ id: 'pg-main', accounts: ['alice'] });
    const sink = new InMemorySecretSink();
    await sink.put({
      connectorId: 'pg-main',
      credentialId: 'grant-1',
      type: 'short_lived_token',
      grantId: 'grant-1',
      holders: ['alice-old-owner'],
      secret: 'old',
      expiresAt: new Date(EXPIRES),
    });
    const runner = runnerOf(connector, sink);

    const first = await runContractRotation(runner, replacing);
    const again = await runContractRotation(runner, replacing);

    expect(first).toEqual({
      kind: 'credential_rotated',
      data: {
        commandId: 'grant-1.r2:rotate:1',
        connectorId: 'pg-main',
        grantId: 'grant-1',
        idempotencyKey: 'grant-1.r2:rotate',
        rotation: 2,
        completedAt: NOW.toISOString(),
        alreadyApplied: false,
        credential: {
          credentialId: 'grant-1.r2',
          type: 'short_lived_token',
          credentialRef: 'memory://pg-main/grant-1.r2',
          fingerprint: fingerprintSecret('new-secret-of-grant-1.r2'),
          expiresAt: EXPIRES,
        },
      },
    });
    expect(again).toMatchObject({ kind: 'credential_rotated', data: { alreadyApplied: true, credential: { credentialId: 'grant-1.r2' } } });
    expect(CredentialRotatedV2DataSchema.parse(first.data)).toEqual(first.data);
    expect(JSON.stringify(first)).not.toContain('new-secret-of');
    expect(connector.rotated).toEqual(['alice']);
    expect(sink.size).toBe(1);
    expect(sink.stored('memory://pg-main/grant-1.r2')).toMatchObject({ holders: ['bob', 'svc-deployer'], grantId: 'grant-1' });
  });

  it('given a connector that rotates but cannot replace, or no sink, then a replacement fails terminally and nothing touches the target', async () => {
    const plain = new RotatingConnector({ id: 'pg-main', accounts: ['alice'] });
    expect(await runContractRotation(runnerOf(plain, new InMemorySecretSink()), replacing)).toMatchObject({
      kind: 'rotation_failed',
      data: { errorClass: 'terminal', code: 'invalid_request', message: expect.stringContaining('cannot replace'), rotation: 2 },
    });
    const noSink = new ReplacingConnector({ id: 'pg-main', accounts: ['alice'] });
    expect(await runContractRotation(runnerOf(noSink), replacing)).toMatchObject({ kind: 'rotation_failed', data: { code: 'invalid_request' } });
    expect([...plain.rotated, ...noSink.rotated]).toEqual([]);
  });

  it('given rotation 2 keyed like rotation 1, then the runner refuses it (a second rotation must not replay the first)', async () => {
    const connector = new RotatingConnector({ id: 'pg-main', accounts: ['alice'] });
    expect(await runnerOf(connector).rotate({ grantId: 'grant-1', idempotencyKey: 'grant-1:rotate', account: 'alice', rotation: 2 })).toMatchObject({
      status: 'failed',
      code: 'invalid_request',
    });
    expect(connector.rotated).toEqual([]);
  });
});
