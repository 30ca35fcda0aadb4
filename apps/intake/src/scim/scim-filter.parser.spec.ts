import { GROUP_RESOURCE_TYPE, USER_RESOURCE_TYPE } from './scim-attributes.schema';
import { equalitiesOf, matchesFilter, resourceScope } from './scim-filter.matcher';
import { parseFilter, parsePath } from './scim-filter.parser';
import { BABS_ID, JOHN_SMITH_ID, RFC7643_ENTERPRISE_USER, RFC7643_GROUP, RFC7644_FILTERS } from './scim-rfc.fixtures';
import { ScimError } from './scim.error';

const babs = resourceScope(USER_RESOURCE_TYPE, RFC7643_ENTERPRISE_USER);
const matches = (filter: string): boolean => matchesFilter(parseFilter(filter), babs);
const scimTypeOf = (run: () => unknown): string | undefined => {
  try {
    run();
  } catch (error) {
    if (error instanceof ScimError) return `${error.status} ${error.scimType ?? ''}`;
    throw error;
  }
  return undefined;
};

describe('SCIM filters (RFC 7644 §3.4.2.2)', () => {
  it('parses every example filter of the RFC', () => {
    for (const filter of RFC7644_FILTERS) expect(() => parseFilter(filter)).not.toThrow();
  });

  it('builds the tree: and binds tighter than or, not applies to a group, a value path filters elements', () => {
    expect(parseFilter('userName eq "bjensen"')).toEqual({ kind: 'compare', path: { attribute: 'userName' }, operator: 'eq', value: 'bjensen' });
    expect(parseFilter('title pr or userType eq "Intern" and active eq true')).toEqual({
      kind: 'logical',
      operator: 'or',
      left: { kind: 'present', path: { attribute: 'title' } },
      right: {
        kind: 'logical',
        operator: 'and',
        left: { kind: 'compare', path: { attribute: 'userType' }, operator: 'eq', value: 'Intern' },
        right: { kind: 'compare', path: { attribute: 'active' }, operator: 'eq', value: true },
      },
    });
    expect(parseFilter('urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J"')).toMatchObject({
      path: { schema: 'urn:ietf:params:scim:schemas:core:2.0:User', attribute: 'userName' },
    });
    expect(parseFilter('emails[type eq "work" and value co "@example.com"]')).toMatchObject({
      kind: 'valuePath',
      path: { attribute: 'emails' },
      filter: { kind: 'logical', operator: 'and' },
    });
    expect(parseFilter('userType ne "Employee" and not (emails co "example.com")')).toMatchObject({
      right: { kind: 'not', filter: { kind: 'compare', operator: 'co' } },
    });
  });

  it('reads operators and keywords in any case, and JSON values (escapes, numbers, null)', () => {
    expect(parseFilter('userName EQ "a\\"b" AND title PR')).toMatchObject({ left: { operator: 'eq', value: 'a"b' }, right: { kind: 'present' } });
    expect(parseFilter('x gt 1.5e2')).toMatchObject({ value: 150 });
    expect(parseFilter('x eq null')).toMatchObject({ value: null });
  });

  it.each([
    ['userName eq "bjensen"', false],
    ['userName eq "BJensen@Example.com"', true],
    ['name.familyName co "O\'Malley"', false],
    ['name.familyName co "ENS"', true],
    ['userName sw "J"', false],
    ['userName sw "B"', true],
    ['urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J"', false],
    ['title pr', true],
    ['nickName pr and profileUrl pr', true],
    ['meta.lastModified gt "2011-05-13T04:42:34Z"', false],
    ['meta.lastModified ge "2011-05-13T04:42:34Z"', true],
    ['meta.lastModified lt "2011-05-13T04:42:34Z"', false],
    ['meta.lastModified le "2011-05-13T04:42:34Z"', true],
    ['meta.lastModified gt "2011-05-13T04:42:34.000-01:00"', false],
    ['title pr and userType eq "Employee"', true],
    ['title pr or userType eq "Intern"', true],
    ['schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"', true],
    ['userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")', true],
    ['userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")', false],
    ['userType eq "Employee" and (emails.type eq "work")', true],
    ['userType eq "Employee" and emails[type eq "work" and value co "@example.com"]', true],
    ['emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]', true],
    ['emails[type eq "home" and value co "@example.com"]', false],
    [`id eq "${BABS_ID}"`, true],
    [`id eq "${BABS_ID.toUpperCase()}"`, false],
    ['externalId eq "701984"', true],
    [`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "${JOHN_SMITH_ID}"`, true],
    ['urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "tour operations"', true],
    ['active eq true', true],
    ['active ne true', false],
    ['noSuchAttribute eq "x"', false],
    ['noSuchAttribute ne "x"', true],
  ])('%s → %s against RFC 7643 §8.2/§8.3 Babs Jensen', (filter, expected) => {
    expect(matches(filter)).toBe(expected);
  });

  it('matches a group by member (complex multi-valued: compared on value)', () => {
    const group = resourceScope(GROUP_RESOURCE_TYPE, RFC7643_GROUP);
    expect(matchesFilter(parseFilter(`members eq "${BABS_ID}"`), group)).toBe(true);
    expect(matchesFilter(parseFilter('members[display sw "mandy"]'), group)).toBe(true);
    expect(matchesFilter(parseFilter('displayName eq "tour guides"'), group)).toBe(true);
  });

  it.each([
    ['userName eq'],
    ['userName eq bjensen'],
    ['(userName eq "x"'],
    ['userName eq "x")'],
    ['emails[type eq "work"'],
    ['userName foo "x"'],
    ['emails[type eq "work" and roles[value eq "x"]]'],
    ['userName eq "unterminated'],
    ['name.givenName.first eq "x"'],
    ['http://x eq "y"'],
    [`${'('.repeat(100)}title pr${')'.repeat(100)}`],
    ['and'],
    [''],
  ])('answers 400 invalidFilter for %j', (filter) => {
    expect(scimTypeOf(() => parseFilter(filter))).toBe('400 invalidFilter');
  });

  it('answers 400 invalidFilter for an ordering comparison with a boolean', () => {
    expect(scimTypeOf(() => matches('active gt true'))).toBe('400 invalidFilter');
  });
});

describe('SCIM PATCH paths (RFC 7644 §3.5.2)', () => {
  it('parses an attribute, a sub-attribute, a URN-qualified attribute, a value filter and a filtered sub-attribute', () => {
    expect(parsePath('members')).toEqual({ attrPath: { attribute: 'members' } });
    expect(parsePath('name.familyName')).toEqual({ attrPath: { attribute: 'name', subAttribute: 'familyName' } });
    expect(parsePath('urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager')).toEqual({
      attrPath: { schema: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User', attribute: 'manager' },
    });
    expect(parsePath(`members[value eq "${BABS_ID}"]`)).toEqual({
      attrPath: { attribute: 'members' },
      valueFilter: { kind: 'compare', path: { attribute: 'value' }, operator: 'eq', value: BABS_ID },
    });
    expect(parsePath('addresses[type eq "work"].streetAddress')).toMatchObject({ attrPath: { attribute: 'addresses' }, subAttribute: 'streetAddress' });
  });

  it.each([['members['], ['members[value eq "x"].'], ['members[value eq "x"] extra'], ['name.givenName[value eq "x"]'], ['"members"']])(
    'answers 400 invalidPath for %j',
    (path) => {
      expect(scimTypeOf(() => parsePath(path))).toBe('400 invalidPath');
    },
  );

  it('lists the attributes a conjunction of equalities fixes (what an unmatched add creates)', () => {
    expect(equalitiesOf(parseFilter('type eq "work" and primary eq true'))).toEqual({ type: 'work', primary: true });
    expect(equalitiesOf(parseFilter('type eq "work" or primary eq true'))).toBeUndefined();
    expect(equalitiesOf(parseFilter('value co "x"'))).toBeUndefined();
  });
});
