import { provisioningTopics } from '../app.module';
import { loadProvisioningConfig } from './provisioning.config';

describe('provisioning configuration', () => {
  it('defaults to the postgres connector, 3 attempts and the security on-call group', () => {
    expect(loadProvisioningConfig({})).toEqual({ connectorIds: ['postgres'], maxAttempts: 3, reconcileEveryMs: 3_600_000, revocationOverdueAfterMs: 300_000 });
  });

  it('reconciles every PROVISIONING_RECONCILE_EVERY, or never with off; refuses a bad or sub-second period', () => {
    expect(loadProvisioningConfig({ PROVISIONING_RECONCILE_EVERY: 'PT15M' }).reconcileEveryMs).toBe(900_000);
    expect(loadProvisioningConfig({ PROVISIONING_RECONCILE_EVERY: 'off' })).not.toHaveProperty('reconcileEveryMs');
    expect(() => loadProvisioningConfig({ PROVISIONING_RECONCILE_EVERY: 'hourly' })).toThrow(/PROVISIONING_RECONCILE_EVERY: expected an ISO-8601 duration/);
    expect(() => loadProvisioningConfig({ PROVISIONING_RECONCILE_EVERY: 'PT0.5S' })).toThrow(/PROVISIONING_RECONCILE_EVERY/);
  });

  it('reads a comma-separated connector list, trimmed and without duplicates', () => {
    expect(loadProvisioningConfig({ PROVISIONING_CONNECTOR_IDS: ' postgres, ldap ,postgres', PROVISIONING_MAX_ATTEMPTS: '5' })).toMatchObject({
      connectorIds: ['postgres', 'ldap'],
      maxAttempts: 5,
    });
  });

  it('refuses a bad connector id or attempt count, naming the variable', () => {
    expect(() => loadProvisioningConfig({ PROVISIONING_CONNECTOR_IDS: 'Bad.Id' })).toThrow(/PROVISIONING_CONNECTOR_IDS/);
    expect(() => loadProvisioningConfig({ PROVISIONING_MAX_ATTEMPTS: '0' })).toThrow(/PROVISIONING_MAX_ATTEMPTS/);
  });

  it("creates the grants topic and one commands topic per connector (the notifications topic is the notifier's)", () => {
    expect(provisioningTopics(['postgres', 'ldap'])).toEqual(['iga.grants.v1', 'iga.connectors.postgres.commands.v1', 'iga.connectors.ldap.commands.v1']);
  });
});
