import type { Identity } from '@grantline/contracts';
import { displayNameOf, emailOf, groupsAttributeOf, identityUpsertOf, leaverOf } from './scim-identity.mapper';
import { JOHN_SMITH_ID, RFC7643_ENTERPRISE_USER, RFC7644_CREATE_USER } from './scim-rfc.fixtures';
import { parseUserBody } from './scim-user.schema';
import type { ScimUserRecord } from './scim-user.schema';
import { ScimError } from './scim.error';

const babs = parseUserBody(RFC7643_ENTERPRISE_USER);
const failure = (run: () => unknown): string => {
  try {
    run();
  } catch (error) {
    if (error instanceof ScimError) return `${error.status} ${error.scimType ?? ''}: ${error.detail}`;
    throw error;
  }
  return 'no error';
};

describe('SCIM User → Grantline identity', () => {
  it('records RFC 7643 §8.3 Babs Jensen as a person: manager, team, primary email, groups, employment, source', () => {
    const data = identityUpsertOf({ id: 'bjensen@example.com', user: babs, groupNames: ['Tour Guides', 'Employees'], sourceVersion: 3 });
    expect(data).toEqual({
      sourceVersion: 3,
      identity: {
        kind: 'human',
        identityId: 'bjensen@example.com',
        displayName: 'Babs Jensen',
        status: 'active',
        sourceSystem: 'scim',
        email: 'bjensen@example.com',
        managerId: JOHN_SMITH_ID,
        team: 'Tour Operations',
        attributes: { groups: 'Employees,Tour Guides', employment: 'employee' },
      },
    });
  });

  it('keeps the attributes another source owns (onCall) and drops the ones the identity source no longer sends', () => {
    const previous: Identity = {
      kind: 'human',
      identityId: 'bjensen',
      displayName: 'Old name',
      status: 'active',
      attributes: { onCall: true, groups: 'Gone', location: 'Paris' },
    };
    const data = identityUpsertOf({
      id: 'bjensen',
      user: parseUserBody({ ...RFC7644_CREATE_USER, userType: 'Contractor' }),
      groupNames: [],
      previous,
      sourceVersion: 1,
    });
    expect(data.identity.attributes).toEqual({ onCall: true, employment: 'contractor' });
    expect(data.identity.displayName).toBe('Ms. Barbara J Jensen III');
  });

  it.each<[string, Partial<ScimUserRecord>, string]>([
    ['the displayName', { displayName: '  Babs  ' }, 'Babs'],
    ['the formatted name', { name: { formatted: 'Barbara Jensen', givenName: 'B' } }, 'Barbara Jensen'],
    ['given and family name', { name: { givenName: 'Barbara', familyName: 'Jensen' } }, 'Barbara Jensen'],
    ['the userName', { name: { formatted: '   ' } }, 'bjensen'],
  ])('names the person by %s', (_case, fields, expected) => {
    expect(displayNameOf({ userName: 'bjensen', active: true, ...fields })).toBe(expected);
  });

  it('takes the primary email, else the work one, else the first', () => {
    const record = (emails: ScimUserRecord['emails']): ScimUserRecord => ({ userName: 'b', active: true, ...(emails === undefined ? {} : { emails }) });
    expect(
      emailOf(
        record([
          { value: 'h@x.org', type: 'home' },
          { value: 'p@x.org', primary: true },
        ]),
      ),
    ).toBe('p@x.org');
    expect(
      emailOf(
        record([
          { value: 'h@x.org', type: 'home' },
          { value: 'w@x.org', type: 'Work' },
        ]),
      ),
    ).toBe('w@x.org');
    expect(emailOf(record([{ value: 'h@x.org', type: 'home' }]))).toBe('h@x.org');
    expect(emailOf(record(undefined))).toBeUndefined();
  });

  it('lists groups sorted, once each, comma-separated (what the approval service splits)', () => {
    expect(groupsAttributeOf(['b', 'a', 'b', ' c '])).toBe('a,b,c');
    expect(groupsAttributeOf([])).toBeUndefined();
  });

  it('refuses a person who manages themselves: they would approve their own requests', () => {
    const self = parseUserBody({ ...RFC7644_CREATE_USER, 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': { manager: { value: 'bjensen' } } });
    expect(failure(() => identityUpsertOf({ id: 'bjensen', user: self, groupNames: [], sourceVersion: 1 }))).toMatch(
      /^400 invalidValue: urn:.*:manager\.value/,
    );
  });

  it('refuses to turn a machine identity into a person (409 uniqueness)', () => {
    const nhi: Identity = { kind: 'service_account', identityId: 'bjensen', displayName: 'Robot', status: 'active', ownerId: 'olivia', attributes: {} };
    expect(failure(() => identityUpsertOf({ id: 'bjensen', user: babs, groupNames: [], previous: nhi, sourceVersion: 1 }))).toMatch(/^409 uniqueness/);
  });

  it('names the SCIM attribute when the identity would break the contract', () => {
    const badEmail = parseUserBody({ ...RFC7644_CREATE_USER, emails: [{ value: 'not an email', primary: true }] });
    expect(failure(() => identityUpsertOf({ id: 'bjensen', user: badEmail, groupNames: [], sourceVersion: 1 }))).toMatch(/^400 invalidValue: emails: /);
    const many = Array.from({ length: 60 }, (_, i) => `engineering-group-${i}`);
    expect(failure(() => identityUpsertOf({ id: 'bjensen', user: babs, groupNames: many, sourceVersion: 1 }))).toMatch(/^400 invalidValue: groups: /);
  });

  it('describes a leaver with the machine identities they own', () => {
    expect(leaverOf('bjensen', new Date('2025-06-02T10:00:00Z'), ['ci-bot'])).toEqual({
      identityId: 'bjensen',
      kind: 'human',
      effectiveAt: '2025-06-02T10:00:00.000Z',
      reason: 'leaver',
      ownedIdentityIds: ['ci-bot'],
    });
  });
});
