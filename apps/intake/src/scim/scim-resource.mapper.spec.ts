import { GROUP_RESOURCE_TYPE, USER_RESOURCE_TYPE } from './scim-attributes.schema';
import { parseGroupBody } from './scim-group.schema';
import { parseListQuery } from './scim-list.schema';
import { etagOf, ifMatchAccepts, listResponse, projectResource, renderGroup, renderUser, userBodyOf, userLocation } from './scim-resource.mapper';
import type { StoredMeta } from './scim-resource.mapper';
import { BABS_ID, JOHN_SMITH_ID, MANDY_ID, RFC7643_ENTERPRISE_USER, RFC7643_GROUP, RFC7644_CREATE_USER } from './scim-rfc.fixtures';
import { parseUserBody } from './scim-user.schema';
import { ScimError } from './scim.error';

const ORIGIN = 'https://example.com';
const meta = (id: string, version = 1): StoredMeta => ({
  resourceType: 'User',
  created: '2011-08-01T21:32:44.882Z',
  lastModified: '2011-08-01T21:32:44.882Z',
  version,
  location: userLocation(id),
});
const failure = (run: () => unknown): string => {
  try {
    run();
  } catch (error) {
    if (error instanceof ScimError) return `${error.status} ${error.scimType ?? ''}: ${error.detail}`;
    throw error;
  }
  return 'no error';
};

describe('SCIM Users: RFC 7644 §3.3 create', () => {
  it('reads the RFC request body and answers the RFC response shape, the id being the userName', () => {
    const user = parseUserBody(RFC7644_CREATE_USER);
    expect(user).toEqual({
      userName: 'bjensen',
      externalId: 'bjensen',
      name: { formatted: 'Ms. Barbara J Jensen III', familyName: 'Jensen', givenName: 'Barbara' },
      active: true,
    });
    expect(renderUser('bjensen', user, meta('bjensen'), [], ORIGIN)).toEqual({
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      id: 'bjensen',
      externalId: 'bjensen',
      userName: 'bjensen',
      name: { formatted: 'Ms. Barbara J Jensen III', familyName: 'Jensen', givenName: 'Barbara' },
      active: true,
      meta: {
        resourceType: 'User',
        created: '2011-08-01T21:32:44.882Z',
        lastModified: '2011-08-01T21:32:44.882Z',
        location: 'https://example.com/scim/v2/Users/bjensen',
        version: 'W/"1"',
      },
    });
  });

  it('renders the enterprise extension with the manager reference, and the groups read-only', () => {
    const user = parseUserBody(RFC7643_ENTERPRISE_USER);
    const rendered = renderUser('bjensen@example.com', user, meta('bjensen@example.com', 4), [{ id: 'g-1', displayName: 'Tour Guides' }], ORIGIN);
    expect(rendered['schemas']).toEqual(['urn:ietf:params:scim:schemas:core:2.0:User', 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User']);
    expect(rendered['urn:ietf:params:scim:schemas:extension:enterprise:2.0:User']).toMatchObject({
      department: 'Tour Operations',
      manager: { value: JOHN_SMITH_ID, $ref: `https://example.com/scim/v2/Users/${JOHN_SMITH_ID}` },
    });
    expect(rendered['groups']).toEqual([{ value: 'g-1', $ref: 'https://example.com/scim/v2/Groups/g-1', display: 'Tour Guides', type: 'direct' }]);
    expect(rendered['meta']).toMatchObject({ location: 'https://example.com/scim/v2/Users/bjensen%40example.com', version: 'W/"4"' });
    // What PATCH starts from is what a PUT would carry: no id, meta or groups, the extension under its URN.
    expect(parseUserBody(userBodyOf(user))).toEqual(user);
  });
});

describe('SCIM User bodies', () => {
  it('ignores unknown and read-only attributes, reads attribute names in any case, drops nulls', () => {
    const user = parseUserBody({
      ...RFC7644_CREATE_USER,
      password: 't1meMa$heen',
      ims: [{ value: 'x' }],
      id: 'other',
      groups: [{ value: 'g' }],
      DisplayName: 'Babs',
      title: null,
    });
    expect(user).toEqual({ userName: 'bjensen', externalId: 'bjensen', name: RFC7644_CREATE_USER['name'], displayName: 'Babs', active: true });
  });

  it.each([
    ['a missing userName', { name: { givenName: 'x' } }, 'userName: required'],
    ['a userName with whitespace', { userName: 'b jensen' }, 'userName: must not contain whitespace'],
    ['a userName over 200 characters', { userName: 'x'.repeat(201) }, 'userName: '],
    ['active as a word', { userName: 'b', active: 'yes' }, 'active: expected a boolean'],
    ['emails as a string', { userName: 'b', emails: 'b@example.com' }, 'emails: '],
    ['an email without a value', { userName: 'b', emails: [{ type: 'work' }] }, 'emails[0].value: required'],
    ['a name that is not an object', { userName: 'b', name: 'Babs' }, 'name: '],
    [
      'a manager id with whitespace',
      { userName: 'b', 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': { manager: { value: 'a b' } } },
      'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value: ',
    ],
  ])('answers 400 invalidValue naming the attribute for %s', (_case, body, detail) => {
    expect(failure(() => parseUserBody(body))).toContain(`400 invalidValue: ${detail}`);
  });

  it('answers 400 invalidSyntax for a body that is not an object', () => {
    expect(failure(() => parseUserBody([RFC7644_CREATE_USER]))).toMatch(/^400 invalidSyntax/);
    expect(failure(() => parseUserBody(undefined))).toMatch(/^400 invalidSyntax/);
  });
});

describe('SCIM Groups', () => {
  it('reads RFC 7643 §8.4 and renders it back with member references', () => {
    const group = parseGroupBody(RFC7643_GROUP);
    expect(group).toEqual({
      displayName: 'Tour Guides',
      members: [
        { value: BABS_ID, display: 'Babs Jensen' },
        { value: MANDY_ID, display: 'Mandy Pepperidge' },
      ],
    });
    const rendered = renderGroup('g-1', group, { ...meta('g-1'), resourceType: 'Group', location: '/scim/v2/Groups/g-1' }, ORIGIN);
    expect(rendered).toMatchObject({
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
      id: 'g-1',
      displayName: 'Tour Guides',
      members: [{ value: BABS_ID, $ref: `https://example.com/scim/v2/Users/${BABS_ID}`, display: 'Babs Jensen', type: 'User' }, { value: MANDY_ID }],
      meta: { resourceType: 'Group', location: 'https://example.com/scim/v2/Groups/g-1', version: 'W/"1"' },
    });
  });

  it('counts a member listed twice once', () => {
    expect(parseGroupBody({ displayName: 'G', members: [{ value: 'a' }, { value: 'a', display: 'A' }] }).members).toEqual([{ value: 'a' }]);
  });

  it.each([
    ['a comma in the name (member identities list group names comma-separated)', { displayName: 'Sales, EMEA' }, 'displayName: must not contain a comma'],
    ['a blank name', { displayName: '  ' }, 'displayName: must not be empty'],
    ['a nested group', { displayName: 'G', members: [{ value: 'g2', type: 'Group' }] }, 'members[0].type: nested groups are not supported'],
  ])('answers 400 invalidValue for %s', (_case, body, detail) => {
    expect(failure(() => parseGroupBody(body))).toContain(`400 invalidValue: ${detail}`);
  });
});

describe('SCIM lists and representations', () => {
  it('reads paging as RFC 7644 §3.4.2.4 says: startIndex below 1 is 1, a negative count 0, at most 200', () => {
    expect(parseListQuery({})).toEqual({ startIndex: 1, count: 100 });
    expect(parseListQuery({ startIndex: '0', count: '-5' })).toEqual({ startIndex: 1, count: 0 });
    expect(parseListQuery({ startIndex: '3', count: '1000', filter: 'userName eq "x"', excludedAttributes: 'members, meta' })).toEqual({
      startIndex: 3,
      count: 200,
      filter: 'userName eq "x"',
      excludedAttributes: ['members', 'meta'],
    });
    expect(parseListQuery({ count: ['2', '3'] })).toMatchObject({ count: 2 });
    expect(failure(() => parseListQuery({ count: 'ten' }))).toMatch(/^400 invalidValue: count: expected an integer/);
  });

  it('answers a ListResponse (RFC 7644 §3.4.2)', () => {
    expect(listResponse(3, 2, [{ id: 'a' }])).toEqual({
      schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'],
      totalResults: 3,
      itemsPerPage: 1,
      startIndex: 2,
      Resources: [{ id: 'a' }],
    });
  });

  it('returns only the attributes asked for, or all but the excluded ones; id and schemas always', () => {
    const user = renderUser('bjensen@example.com', parseUserBody(RFC7643_ENTERPRISE_USER), meta('bjensen@example.com'), [], ORIGIN);
    expect(
      projectResource(USER_RESOURCE_TYPE, user, ['userName', 'name.givenName', 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department']),
    ).toEqual({
      schemas: user['schemas'],
      id: 'bjensen@example.com',
      userName: 'bjensen@example.com',
      name: { givenName: 'Barbara' },
      'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': { department: 'Tour Operations' },
    });
    const group = renderGroup('g-1', parseGroupBody(RFC7643_GROUP), { ...meta('g-1'), resourceType: 'Group' }, ORIGIN);
    const withoutMembers = projectResource(GROUP_RESOURCE_TYPE, group, undefined, ['members', 'id']);
    expect(withoutMembers).not.toHaveProperty('members');
    expect(withoutMembers).toMatchObject({ id: 'g-1', displayName: 'Tour Guides' });
  });

  it('compares If-Match weakly against the version (RFC 7644 §3.14)', () => {
    expect(etagOf(3)).toBe('W/"3"');
    expect(ifMatchAccepts(undefined, 3)).toBe(true);
    expect(ifMatchAccepts('W/"3"', 3)).toBe(true);
    expect(ifMatchAccepts('"3"', 3)).toBe(true);
    expect(ifMatchAccepts('W/"2", W/"3"', 3)).toBe(true);
    expect(ifMatchAccepts('*', 3)).toBe(true);
    expect(ifMatchAccepts('W/"2"', 3)).toBe(false);
  });
});
