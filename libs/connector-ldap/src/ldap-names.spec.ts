import { ConnectorError } from '@grantline/connector-sdk';
import { accountDn, accountOfMemberDn, assertBaseDn, assertLdapName, groupDn, normalizeDn } from './ldap-names';

const layout = { groupsBaseDn: 'ou=groups,dc=grantline,dc=test', peopleBaseDn: 'ou=people,dc=grantline,dc=test' };

describe('LDAP names', () => {
  it('maps an account to uid=<account> under the people base and a group to cn=<name> under the groups base', () => {
    expect(accountDn(layout, 'alice')).toBe('uid=alice,ou=people,dc=grantline,dc=test');
    expect(groupDn(layout, 'grantline-wiki')).toBe('cn=grantline-wiki,ou=groups,dc=grantline,dc=test');
  });

  it.each(['alice', 'e2e_dev.1', 'A-1'])('accepts %s', (name) => {
    expect(assertLdapName(name, 'account')).toBe(name);
  });

  it.each(['', 'a,ou=admins', 'x)(member=*', 'bob*', 'c\\2c', 'cn=admin', ' lead', '-x', 'a'.repeat(129)])(
    'refuses %j as a terminal invalid_request',
    (name) => {
      let caught: unknown;
      try {
        assertLdapName(name, 'account');
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(ConnectorError);
      expect(caught).toMatchObject({ code: 'invalid_request', errorClass: 'terminal' });
    },
  );

  it('reads the account back from a member DN whatever its case and spacing, and nothing from other DNs', () => {
    expect(accountOfMemberDn(layout, 'uid=alice,ou=people,dc=grantline,dc=test')).toBe('alice');
    expect(accountOfMemberDn(layout, 'UID=Alice, OU=People,DC=grantline, dc=test')).toBe('Alice');
    expect(accountOfMemberDn(layout, 'cn=grantline-placeholder,ou=people,dc=grantline,dc=test')).toBeUndefined();
    expect(accountOfMemberDn(layout, 'uid=alice,ou=admins,dc=grantline,dc=test')).toBeUndefined();
    expect(accountOfMemberDn(layout, 'uid=alice\\2c x,ou=people,dc=grantline,dc=test')).toBeUndefined();
    expect(accountOfMemberDn(layout, 'uid=alice')).toBeUndefined();
  });

  it('normalises DNs for comparison and checks configured base DNs', () => {
    expect(normalizeDn('OU=Groups , DC=Grantline,dc = test')).toBe('ou=groups,dc=grantline,dc=test');
    expect(assertBaseDn(' ou=groups,dc=grantline,dc=test ', 'groupsBaseDn')).toBe('ou=groups,dc=grantline,dc=test');
    expect(() => assertBaseDn('ou=groups,,dc=test', 'groupsBaseDn')).toThrow(/groupsBaseDn/);
    expect(() => assertBaseDn('groups', 'groupsBaseDn')).toThrow(/groupsBaseDn/);
  });
});
