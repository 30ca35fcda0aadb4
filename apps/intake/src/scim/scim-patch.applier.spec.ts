import { GROUP_RESOURCE_TYPE, USER_RESOURCE_TYPE, canonicalResource } from './scim-attributes.schema';
import type { JsonObject } from './scim-attributes.schema';
import { parseGroupBody } from './scim-group.schema';
import { applyPatch } from './scim-patch.applier';
import { parsePatchBody } from './scim-patch.schema';
import { BABS_ID, JAMES_ID, MANDY_ID, RFC7643_ENTERPRISE_USER, RFC7643_GROUP, RFC7644_PATCH } from './scim-rfc.fixtures';
import { parseUserBody } from './scim-user.schema';
import { ScimError } from './scim.error';

const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

/** What a stored resource looks like to PATCH: the writable attributes under canonical names. */
const user = (overrides: JsonObject = {}): JsonObject => ({ ...canonicalResource(USER_RESOURCE_TYPE, RFC7643_ENTERPRISE_USER, true), ...overrides });
const group = (overrides: JsonObject = {}): JsonObject => ({ ...canonicalResource(GROUP_RESOURCE_TYPE, RFC7643_GROUP, true), ...overrides });

const patchUser = (resource: JsonObject, body: unknown): JsonObject => applyPatch(USER_RESOURCE_TYPE, resource, parsePatchBody(body));
const patchGroup = (resource: JsonObject, body: unknown): JsonObject => applyPatch(GROUP_RESOURCE_TYPE, resource, parsePatchBody(body));
const ops = (...operations: unknown[]) => ({ schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: operations });
const memberIds = (resource: JsonObject): unknown[] => ((resource['members'] as JsonObject[] | undefined) ?? []).map((member) => member['value']);
const failure = (run: () => unknown): string => {
  try {
    run();
  } catch (error) {
    if (error instanceof ScimError) return `${error.status} ${error.scimType ?? ''}`;
    throw error;
  }
  return 'no error';
};

describe('SCIM PATCH: the examples of RFC 7644 §3.5.2', () => {
  it('§3.5.2.1 adds a member to a group (values are appended, an existing member is not duplicated)', () => {
    const patched = patchGroup(group({ members: [] }), RFC7644_PATCH.addMember);
    expect(patched['members']).toEqual([{ display: 'Babs Jensen', $ref: `https://example.com/v2/Users/${BABS_ID}`, value: BABS_ID }]);
    expect(memberIds(patchGroup(group(), RFC7644_PATCH.addMember))).toEqual([BABS_ID, MANDY_ID]);
  });

  it('§3.5.2.1 adds without a path: each key of the value is an attribute (in any case)', () => {
    const patched = patchUser(user({ nickName: 'B' }), RFC7644_PATCH.addWithoutPath);
    expect(patched['nickName']).toBe('Babs');
    expect(patched['emails']).toEqual([
      { value: 'bjensen@example.com', type: 'work', primary: true },
      { value: 'babs@jensen.org', type: 'home' },
    ]);
  });

  it('§3.5.2.2 removes all members, a single member, and the values a filter matches', () => {
    expect(patchGroup(group(), RFC7644_PATCH.removeAllMembers)['members']).toBeUndefined();
    expect(memberIds(patchGroup(group(), RFC7644_PATCH.removeMember))).toEqual([MANDY_ID]);
    expect(patchUser(user(), RFC7644_PATCH.removeWorkEmails)['emails']).toEqual([{ value: 'babs@jensen.org', type: 'home' }]);
  });

  it('§3.5.2.2 replaces the member list by a remove then an add', () => {
    expect(memberIds(patchGroup(group(), RFC7644_PATCH.removeThenAddMembers))).toEqual([BABS_ID, JAMES_ID]);
  });

  it('§3.5.2.3 replaces all members', () => {
    expect(patchGroup(group(), RFC7644_PATCH.replaceMembers)['members']).toEqual([
      { display: 'Babs Jensen', $ref: `https://example.com/v2/Users/${BABS_ID}`, value: BABS_ID },
      { display: 'James Smith', $ref: `https://example.com/v2/Users/${JAMES_ID}`, value: JAMES_ID },
    ]);
  });

  it('§3.5.2.3 addresses are not supported: replacing them is ignored like any unknown attribute', () => {
    expect(patchUser(user(), RFC7644_PATCH.replaceWorkAddress)).toEqual(user());
    expect(patchUser(user(), RFC7644_PATCH.replaceStreetAddress)).toEqual(user());
  });

  it('§3.5.2.3 replaces several attributes without a path (a multi-valued one as a whole)', () => {
    const patched = patchUser(user({ emails: [{ value: 'old@example.com', type: 'work' }] }), RFC7644_PATCH.replaceWithoutPath);
    expect(patched['nickName']).toBe('Babs');
    expect(patched['emails']).toEqual([
      { value: 'bjensen@example.com', type: 'work', primary: true },
      { value: 'babs@jensen.org', type: 'home' },
    ]);
  });

  it('§3.5.2.3 replaces a sub-attribute of the values a filter matches, and a whole matching value', () => {
    expect(patchUser(user(), ops({ op: 'replace', path: 'emails[type eq "work"].value', value: 'babs@example.org' }))['emails']).toEqual([
      { value: 'babs@example.org', type: 'work', primary: true },
      { value: 'babs@jensen.org', type: 'home' },
    ]);
    expect(patchUser(user(), ops({ op: 'replace', path: 'emails[type eq "home"]', value: { value: 'b@home.org', type: 'home' } }))['emails']).toEqual([
      { value: 'bjensen@example.com', type: 'work', primary: true },
      { value: 'b@home.org', type: 'home' },
    ]);
  });

  it('keeps one primary value: a value added as primary demotes the others (RFC 7643 §2.4)', () => {
    const patched = patchUser(user(), ops({ op: 'add', path: 'emails', value: [{ value: 'new@example.com', type: 'work', primary: true }] }));
    expect(patched['emails']).toEqual([
      { value: 'bjensen@example.com', type: 'work', primary: false },
      { value: 'babs@jensen.org', type: 'home' },
      { value: 'new@example.com', type: 'work', primary: true },
    ]);
  });

  it('merges a complex attribute: sub-attributes not named are left as they are', () => {
    const patched = patchUser(user(), ops({ op: 'replace', path: 'name', value: { givenName: 'Babs' } }));
    expect(patched['name']).toMatchObject({ givenName: 'Babs', familyName: 'Jensen', formatted: 'Ms. Barbara J Jensen, III' });
    expect(patchUser(user(), ops({ op: 'replace', path: 'name.familyName', value: 'Jensen-Smith' }))['name']).toMatchObject({
      familyName: 'Jensen-Smith',
      givenName: 'Barbara',
    });
    expect(patchUser(user(), ops({ op: 'remove', path: 'name.middleName' }))['name']).not.toHaveProperty('middleName');
  });

  it('applies all operations or none: the resource given is never changed', () => {
    const original = user();
    const before = structuredClone(original);
    expect(failure(() => patchUser(original, ops({ op: 'replace', path: 'displayName', value: 'X' })))).toBe('no error');
    expect(failure(() => patchUser(original, ops({ op: 'replace', path: 'displayName', value: 'X' }, { op: 'remove' })))).toBe('400 noTarget');
    expect(original).toEqual(before);
  });
});

describe('SCIM PATCH as Azure AD and Okta send it', () => {
  it('sets the manager by path with a bare id (Azure AD), with a value object, and through manager.value', () => {
    const azure = parseUserBody(patchUser(user(), ops({ op: 'Add', path: `${ENTERPRISE}:manager`, value: 'maria' })));
    expect(azure.enterprise?.manager).toEqual({ value: 'maria' });
    const object = parseUserBody(patchUser(user(), ops({ op: 'replace', path: `${ENTERPRISE}:manager`, value: { value: 'olga' } })));
    expect(object.enterprise?.manager).toEqual({ value: 'olga' });
    const sub = parseUserBody(patchUser(user(), ops({ op: 'replace', path: `${ENTERPRISE}:manager.value`, value: 'pat' })));
    expect(sub.enterprise?.manager).toEqual({ value: 'pat' });
  });

  it('sets the manager through a value object without a path: the extension object (Okta) or its qualified attribute', () => {
    const okta = parseUserBody(patchUser(user(), ops({ op: 'replace', value: { [ENTERPRISE]: { manager: { value: 'quinn' } } } })));
    expect(okta.enterprise).toMatchObject({ manager: { value: 'quinn' }, department: 'Tour Operations' });
    const qualified = parseUserBody(patchUser(user(), ops({ op: 'replace', value: { [`${ENTERPRISE}:manager`]: { value: 'rosa' } } })));
    expect(qualified.enterprise?.manager).toEqual({ value: 'rosa' });
    const bare = parseUserBody(patchUser(user(), ops({ op: 'replace', value: { [`${ENTERPRISE}:manager`]: 'sam' } })));
    expect(bare.enterprise?.manager).toEqual({ value: 'sam' });
  });

  it('clears the manager: remove by path, or an empty id (Azure AD)', () => {
    expect(parseUserBody(patchUser(user(), ops({ op: 'remove', path: `${ENTERPRISE}:manager` }))).enterprise).not.toHaveProperty('manager');
    expect(parseUserBody(patchUser(user(), ops({ op: 'Replace', path: `${ENTERPRISE}:manager`, value: '' }))).enterprise).not.toHaveProperty('manager');
    const onlyManager = user({ [ENTERPRISE]: { manager: { value: 'x' } } });
    expect(patchUser(onlyManager, ops({ op: 'remove', path: `${ENTERPRISE}:manager` }))).not.toHaveProperty(ENTERPRISE);
  });

  it('deactivates: active false by path, "False" as Azure AD writes it, and in a value object (Okta)', () => {
    expect(parseUserBody(patchUser(user(), ops({ op: 'replace', path: 'active', value: false }))).active).toBe(false);
    expect(parseUserBody(patchUser(user(), ops({ op: 'Replace', path: 'active', value: 'False' }))).active).toBe(false);
    expect(parseUserBody(patchUser(user(), ops({ op: 'replace', value: { active: false } }))).active).toBe(false);
  });

  it('changes displayName and name parts by path and in a value object with dotted keys', () => {
    const patched = parseUserBody(
      patchUser(
        user(),
        ops({ op: 'Replace', path: 'displayName', value: 'Barbara Jensen' }, { op: 'Replace', value: { 'name.givenName': 'Barb', 'name.familyName': 'J' } }),
      ),
    );
    expect(patched.displayName).toBe('Barbara Jensen');
    expect(patched.name).toMatchObject({ givenName: 'Barb', familyName: 'J' });
  });

  it('creates the work email Azure AD sets by filter when the user has none', () => {
    const patched = patchUser(user({ emails: [] }), ops({ op: 'Add', path: 'emails[type eq "work"].value', value: 'b@example.com' }));
    expect(patched['emails']).toEqual([{ type: 'work', value: 'b@example.com' }]);
    expect(patchUser(user({ emails: [] }), ops({ op: 'Replace', path: 'emails[type eq "work"].value', value: 'c@example.com' }))['emails']).toEqual([
      { type: 'work', value: 'c@example.com' },
    ]);
  });

  it('removes the members Azure AD lists in the value of a remove on "members", and only those', () => {
    expect(memberIds(patchGroup(group(), ops({ op: 'Remove', path: 'members', value: [{ value: MANDY_ID }] })))).toEqual([BABS_ID]);
  });

  it('ignores read-only attributes echoed in a value object (Okta sends the id back), and the schemas member', () => {
    const patched = patchGroup(
      group(),
      ops({ op: 'replace', value: { id: 'e9e30dba-f08f-4109-8486-d5c6a331660a', displayName: 'Tour Leads', schemas: ['x'], meta: {} } }),
    );
    expect(parseGroupBody(patched)).toMatchObject({ displayName: 'Tour Leads' });
    expect(patched).not.toHaveProperty('id');
  });

  it('removing what is not there succeeds (a retried removal)', () => {
    expect(memberIds(patchGroup(group(), ops({ op: 'remove', path: `members[value eq "${JAMES_ID}"]` })))).toEqual([BABS_ID, MANDY_ID]);
  });
});

describe('SCIM PATCH refusals', () => {
  it.each([
    ['remove without a path', ops({ op: 'remove' }), '400 noTarget'],
    ['replace whose value filter matches nothing', ops({ op: 'replace', path: 'emails[type eq "other"]', value: { value: 'x@y.z' } }), '400 noTarget'],
    [
      'a sub-attribute by a filter that is not all equalities and matches nothing',
      ops({ op: 'add', path: 'emails[value co "nowhere"].type', value: 'work' }),
      '400 noTarget',
    ],
    ['the read-only id', ops({ op: 'replace', path: 'id', value: 'other' }), '400 mutability'],
    ['the read-only groups', ops({ op: 'add', path: 'groups', value: [{ value: 'g' }] }), '400 mutability'],
    ['the read-only meta', ops({ op: 'replace', path: 'meta.version', value: 'W/"9"' }), '400 mutability'],
    ['a malformed path', ops({ op: 'replace', path: 'emails[type eq', value: 'x' }), '400 invalidPath'],
    ['a value filter on a single-valued attribute', ops({ op: 'replace', path: 'name[givenName eq "x"]', value: {} }), '400 invalidPath'],
    ['add without a value', ops({ op: 'add', path: 'displayName' }), '400 invalidValue'],
    ['no path and a value that is not an object', ops({ op: 'replace', value: 'x' }), '400 invalidValue'],
    ['an unknown operation', ops({ op: 'move', path: 'displayName', value: 'x' }), '400 invalidSyntax'],
    ['no Operations', { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'] }, '400 invalidSyntax'],
    [
      'another message schema',
      { schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'], Operations: [{ op: 'add', path: 'nickName', value: 'x' }] },
      '400 invalidSyntax',
    ],
    ['a body that is not an object', [], '400 invalidSyntax'],
  ])('answers %s with %s', (_case, body, expected) => {
    expect(failure(() => patchUser(user(), body))).toBe(expected);
  });

  it('refuses to change a member value in place (members.value is immutable)', () => {
    expect(failure(() => patchGroup(group(), ops({ op: 'replace', path: `members[value eq "${BABS_ID}"].value`, value: JAMES_ID })))).toBe('400 mutability');
  });

  it('reads the member names of the message in any case (operations, Op, PATH)', () => {
    expect(
      patchUser(user(), { Schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], operations: [{ Op: 'Replace', PATH: 'nickName', Value: 'B' }] })[
        'nickName'
      ],
    ).toBe('B');
  });
});
