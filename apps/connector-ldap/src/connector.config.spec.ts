import { loadConnectorConfig } from './connector.config';

const valid = {
  LDAP_URL: 'ldap://127.0.0.1:13389',
  LDAP_BIND_DN: 'cn=admin,dc=grantline,dc=test',
  LDAP_BIND_PASSWORD: 'bind-secret-123',
  LDAP_GROUPS_BASE_DN: 'ou=groups,dc=grantline,dc=test',
  LDAP_PEOPLE_BASE_DN: 'ou=people,dc=grantline,dc=test',
};

describe('loadConnectorConfig', () => {
  it('needs the URL, the bind and the two bases, and defaults the rest', () => {
    expect(loadConnectorConfig(valid)).toEqual({
      connectorId: 'ldap',
      ldapUrl: 'ldap://127.0.0.1:13389',
      bindDn: 'cn=admin,dc=grantline,dc=test',
      bindPassword: 'bind-secret-123',
      groupsBaseDn: 'ou=groups,dc=grantline,dc=test',
      peopleBaseDn: 'ou=people,dc=grantline,dc=test',
      managedGroupPrefix: 'grantline-',
      pageSize: 500,
      timeoutMs: 10_000,
      retry: { maxAttempts: 5, baseDelayMs: 200, maxDelayMs: 10_000 },
    });
  });

  it('takes an explicit placeholder member DN', () => {
    expect(loadConnectorConfig({ ...valid, LDAP_PLACEHOLDER_MEMBER_DN: 'cn=nobody,dc=grantline,dc=test' })).toMatchObject({
      placeholderMemberDn: 'cn=nobody,dc=grantline,dc=test',
    });
  });

  it('names every bad variable and never echoes the password or a value', () => {
    const attempt = (): unknown =>
      loadConnectorConfig({
        ...valid,
        LDAP_URL: 'http://secret-host:389',
        LDAP_GROUPS_BASE_DN: 'groups-secret',
        LDAP_MANAGED_GROUP_PREFIX: '*secret',
        CONNECTOR_ID: 'Bad Id',
      });
    expect(attempt).toThrow(/LDAP_URL/);
    expect(attempt).toThrow(/LDAP_GROUPS_BASE_DN/);
    expect(attempt).toThrow(/LDAP_MANAGED_GROUP_PREFIX/);
    expect(attempt).toThrow(/CONNECTOR_ID/);
    expect(attempt).not.toThrow(/secret/);
  });

  it('refuses a missing bind password without naming anything but the variable', () => {
    const { LDAP_BIND_PASSWORD: _omitted, ...rest } = valid;
    expect(() => loadConnectorConfig(rest)).toThrow(/LDAP_BIND_PASSWORD/);
    expect(() => loadConnectorConfig({ ...valid, LDAP_BIND_PASSWORD: '' })).toThrow(/LDAP_BIND_PASSWORD/);
  });
});
