import { parseRoleMap, principalKindOf, rolesOf } from './roles';

describe('roles from a verified token', () => {
  it('a person is a member, plus the Grantline roles its roles claim names', () => {
    expect([...rolesOf({ sub: 'sam', roles: ['security', 'not-a-role'] }, 'person')].sort()).toEqual(['member', 'security']);
    expect([...rolesOf({ sub: 'alice' }, 'person')]).toEqual(['member']);
  });

  it('a workload holds only what is mapped to it, never member (even if the token says so)', () => {
    expect([...rolesOf({ sub: 'hr-feed', roles: ['identity-source', 'member'] }, 'workload')]).toEqual(['identity-source']);
  });

  it('maps IdP names through the configured map and a dotted claim path; a space-separated string counts too', () => {
    const map = parseRoleMap('grantline-sec=security,hr=identity-source');
    if (!map.ok) throw new Error(map.message);
    const mapping = { claim: 'realm_access.roles', map: map.map };
    expect([...rolesOf({ sub: 'x', realm_access: { roles: ['grantline-sec', 'other'] } }, 'person', mapping)].sort()).toEqual(['member', 'security']);
    expect([...rolesOf({ sub: 'x', scope: 'hr auditor' }, 'workload', { claim: 'scope', map: map.map })].sort()).toEqual(['auditor', 'identity-source']);
  });

  it('tells client-credentials tokens from user tokens', () => {
    expect(principalKindOf({ sub: 'hr-feed', gty: 'client-credentials' })).toBe('workload');
    expect(principalKindOf({ sub: '0oa1', cid: '0oa1' })).toBe('workload');
    expect(principalKindOf({ sub: 'alice', azp: 'console' })).toBe('person');
  });

  it('refuses a malformed map entry, naming it', () => {
    expect(parseRoleMap('no-equals-sign')).toEqual({ ok: false, message: '"no-equals-sign" is not idp-name=grantline-role' });
  });
});
