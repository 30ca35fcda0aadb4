import { InMemoryConnector, InMemorySecretSink, fingerprintSecret, runContractCommand } from '@grantline/connector-sdk';
import type { Connector } from '@grantline/connector-sdk';
import type { ProvisionRequestedData } from '@grantline/contracts';
import type { ConnectorHostConfig } from '../connector-host.config';
import { ConnectorRuntime } from './connector-runtime';

const config: ConnectorHostConfig = { connectorId: 'fake', retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 } };
const GRANT = 'req-1:ent-1';
const provisionWithCredential: ProvisionRequestedData = {
  commandId: `${GRANT}:provision:1`,
  connectorId: 'fake',
  grantId: GRANT,
  targetAccount: 'svc_ci',
  entitlementRef: 'grantline_read',
  idempotencyKey: `${GRANT}:provision`,
  expiresAt: '2099-01-01T00:00:00.000Z',
  credential: { type: 'database_role', ttlSeconds: 600, holders: ['owner-of-ci'] },
};

describe('ConnectorRuntime', () => {
  it('hands issued secrets to the sink the host gives it; the result carries only the reference and fingerprint', async () => {
    const sink = new InMemorySecretSink();
    const runtime = new ConnectorRuntime(config, new InMemoryConnector({ id: 'fake', entitlements: ['grantline_read'] }), sink);

    const result = await runContractCommand(runtime.runner, { operation: 'provision', data: provisionWithCredential });

    expect(result.kind).toBe('provisioned');
    const credential = result.kind === 'provisioned' ? result.data.credential : undefined;
    expect(sink.size).toBe(1);
    const secret = sink.read(credential!.credentialRef);
    expect(secret).toBeDefined();
    expect(credential!.fingerprint).toBe(fingerprintSecret(secret!));
    expect(JSON.stringify(result)).not.toContain(secret!);
  });

  it('without a sink (no CREDENTIAL_SEALING_KEY) refuses a credential ask terminally and issues nothing', async () => {
    const connector = new InMemoryConnector({ id: 'fake', entitlements: ['grantline_read'] });
    const runtime = new ConnectorRuntime(config, connector, null);

    const result = await runContractCommand(runtime.runner, { operation: 'provision', data: provisionWithCredential });

    expect(result).toMatchObject({ kind: 'operation_failed', data: { errorClass: 'terminal', code: 'invalid_request' } });
    expect(connector.calls).not.toContain('issueCredential');
  });

  it("erases the grant's unretrieved secret after its deprovision", async () => {
    const sink = new InMemorySecretSink();
    const runtime = new ConnectorRuntime(config, new InMemoryConnector({ id: 'fake', entitlements: ['grantline_read'] }), sink);
    await runContractCommand(runtime.runner, { operation: 'provision', data: provisionWithCredential });
    expect(sink.size).toBe(1);

    const { credential: _credential, expiresAt: _expiresAt, ...common } = provisionWithCredential;
    await runContractCommand(runtime.runner, {
      operation: 'deprovision',
      data: { ...common, commandId: `${GRANT}:deprovision:1`, idempotencyKey: `${GRANT}:deprovision`, reason: 'revocation' },
    });
    expect(sink.size).toBe(0);
  });

  it('closes the connector when the service stops', async () => {
    const connector = new InMemoryConnector({ id: 'fake' });
    const closed: string[] = [];
    const closing: Connector = Object.assign(connector, { close: async () => void closed.push(connector.id) });
    await new ConnectorRuntime(config, closing, new InMemorySecretSink()).onModuleDestroy();
    expect(closed).toEqual(['fake']);
  });

  it('a connector without close() stops too', async () => {
    await expect(new ConnectorRuntime(config, new InMemoryConnector({ id: 'fake' }), new InMemorySecretSink()).onModuleDestroy()).resolves.toBeUndefined();
  });

  it('refuses a connector built under another id than CONNECTOR_ID, which would fail every command', () => {
    expect(() => new ConnectorRuntime(config, new InMemoryConnector({ id: 'postgres' }), new InMemorySecretSink())).toThrow(
      /built as postgres, but CONNECTOR_ID is fake/,
    );
  });
});
