import type { JsonObject } from './scim-attributes.schema';

/**
 * The examples of RFC 7643 §8 and RFC 7644 §3, as the specs' fixtures: what an identity provider written against
 * the RFCs sends is what this service provider must understand.
 */

export const BABS_ID = '2819c223-7f76-453a-919d-413861904646';
export const JAMES_ID = '08e1d05d-121c-4561-8b96-473d93df9210';
export const MANDY_ID = '902c246b-6245-4190-8e05-00816be7344a';
export const JOHN_SMITH_ID = '26118915-6090-4610-87e4-49d8ca9f808d';

/** RFC 7644 §3.3: the body of `POST /Users` ("Creating Resources"). */
export const RFC7644_CREATE_USER: JsonObject = {
  schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
  userName: 'bjensen',
  externalId: 'bjensen',
  name: {
    formatted: 'Ms. Barbara J Jensen III',
    familyName: 'Jensen',
    givenName: 'Barbara',
  },
};

/** RFC 7643 §8.2 (full User) with the §8.3 enterprise extension, as a service provider represents it. */
export const RFC7643_ENTERPRISE_USER: JsonObject = {
  schemas: ['urn:ietf:params:scim:schemas:core:2.0:User', 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'],
  id: BABS_ID,
  externalId: '701984',
  userName: 'bjensen@example.com',
  name: {
    formatted: 'Ms. Barbara J Jensen, III',
    familyName: 'Jensen',
    givenName: 'Barbara',
    middleName: 'Jane',
    honorificPrefix: 'Ms.',
    honorificSuffix: 'III',
  },
  displayName: 'Babs Jensen',
  nickName: 'Babs',
  profileUrl: 'https://login.example.com/bjensen',
  emails: [
    { value: 'bjensen@example.com', type: 'work', primary: true },
    { value: 'babs@jensen.org', type: 'home' },
  ],
  phoneNumbers: [
    { value: '555-555-5555', type: 'work' },
    { value: '555-555-4444', type: 'mobile' },
  ],
  userType: 'Employee',
  title: 'Tour Guide',
  preferredLanguage: 'en-US',
  locale: 'en-US',
  timezone: 'America/Los_Angeles',
  active: true,
  'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': {
    employeeNumber: '701984',
    costCenter: '4130',
    organization: 'Universal Studios',
    division: 'Theme Park',
    department: 'Tour Operations',
    manager: { value: JOHN_SMITH_ID, $ref: `../Users/${JOHN_SMITH_ID}`, displayName: 'John Smith' },
  },
  meta: {
    resourceType: 'User',
    created: '2010-01-23T04:56:22Z',
    lastModified: '2011-05-13T04:42:34Z',
    version: 'W/"3694e05e9dff591"',
    location: `https://example.com/v2/Users/${BABS_ID}`,
  },
};

/** RFC 7643 §8.4: a Group. */
export const RFC7643_GROUP: JsonObject = {
  schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
  id: 'e9e30dba-f08f-4109-8486-d5c6a331660a',
  displayName: 'Tour Guides',
  members: [
    { value: BABS_ID, $ref: `https://example.com/v2/Users/${BABS_ID}`, display: 'Babs Jensen' },
    { value: MANDY_ID, $ref: `https://example.com/v2/Users/${MANDY_ID}`, display: 'Mandy Pepperidge' },
  ],
  meta: {
    resourceType: 'Group',
    created: '2010-01-23T04:56:22Z',
    lastModified: '2011-05-13T04:42:34Z',
    version: 'W/"3694e05e9dff592"',
    location: 'https://example.com/v2/Groups/e9e30dba-f08f-4109-8486-d5c6a331660a',
  },
};

const PATCH_OP = ['urn:ietf:params:scim:api:messages:2.0:PatchOp'];

/** RFC 7644 §3.5.2 examples, by section. */
export const RFC7644_PATCH = {
  /** §3.5.2.1: add a member to a group. */
  addMember: {
    schemas: PATCH_OP,
    Operations: [{ op: 'add', path: 'members', value: [{ display: 'Babs Jensen', $ref: `https://example.com/v2/Users/${BABS_ID}`, value: BABS_ID }] }],
  },
  /** §3.5.2.1: add without a path (note the RFC's own lower-case "nickname"). */
  addWithoutPath: {
    schemas: PATCH_OP,
    Operations: [{ op: 'add', value: { emails: [{ value: 'babs@jensen.org', type: 'home' }], nickname: 'Babs' } }],
  },
  /** §3.5.2.2: remove all members of a group. */
  removeAllMembers: { schemas: PATCH_OP, Operations: [{ op: 'remove', path: 'members' }] },
  /** §3.5.2.2: remove a single member. */
  removeMember: { schemas: PATCH_OP, Operations: [{ op: 'remove', path: `members[value eq "${BABS_ID}"]` }] },
  /** §3.5.2.2: remove the values of a complex multi-valued attribute matching a filter. */
  removeWorkEmails: { schemas: PATCH_OP, Operations: [{ op: 'remove', path: 'emails[type eq "work" and value ew "example.com"]' }] },
  /** §3.5.2.2: replace all the members of a group with a different list (remove, then add). */
  removeThenAddMembers: {
    schemas: PATCH_OP,
    Operations: [
      { op: 'remove', path: 'members' },
      {
        op: 'add',
        path: 'members',
        value: [
          { display: 'Babs Jensen', $ref: `https://example.com/v2/Users/${BABS_ID}`, value: BABS_ID },
          { display: 'James Smith', $ref: `https://example.com/v2/Users/${JAMES_ID}`, value: JAMES_ID },
        ],
      },
    ],
  },
  /** §3.5.2.3: replace all members. */
  replaceMembers: {
    schemas: PATCH_OP,
    Operations: [
      {
        op: 'replace',
        path: 'members',
        value: [
          { display: 'Babs Jensen', $ref: `https://example.com/v2/Users/${BABS_ID}`, value: BABS_ID },
          { display: 'James Smith', $ref: `https://example.com/v2/Users/${JAMES_ID}`, value: JAMES_ID },
        ],
      },
    ],
  },
  /** §3.5.2.3: replace the work address (addresses are not supported here: ignored like any unknown attribute). */
  replaceWorkAddress: {
    schemas: PATCH_OP,
    Operations: [
      {
        op: 'replace',
        path: 'addresses[type eq "work"]',
        value: {
          type: 'work',
          streetAddress: '911 Universal City Plaza',
          locality: 'Hollywood',
          region: 'CA',
          postalCode: '91608',
          country: 'US',
          formatted: '911 Universal City Plaza\nHollywood, CA 91608 US',
          primary: true,
        },
      },
    ],
  },
  /** §3.5.2.3: replace one sub-attribute of the matching values (again addresses). */
  replaceStreetAddress: { schemas: PATCH_OP, Operations: [{ op: 'replace', path: 'addresses[type eq "work"].streetAddress', value: '1010 Broadway Ave' }] },
  /** §3.5.2.3: replace several attributes without a path. */
  replaceWithoutPath: {
    schemas: PATCH_OP,
    Operations: [
      {
        op: 'replace',
        value: {
          emails: [
            { value: 'bjensen@example.com', type: 'work', primary: true },
            { value: 'babs@jensen.org', type: 'home' },
          ],
          nickname: 'Babs',
        },
      },
    ],
  },
} as const;

/** RFC 7644 §3.4.2.2: the example filters. */
export const RFC7644_FILTERS = [
  'userName eq "bjensen"',
  'name.familyName co "O\'Malley"',
  'userName sw "J"',
  'urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J"',
  'title pr',
  'meta.lastModified gt "2011-05-13T04:42:34Z"',
  'meta.lastModified ge "2011-05-13T04:42:34Z"',
  'meta.lastModified lt "2011-05-13T04:42:34Z"',
  'meta.lastModified le "2011-05-13T04:42:34Z"',
  'title pr and userType eq "Employee"',
  'title pr or userType eq "Intern"',
  'schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"',
  'userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")',
  'userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")',
  'userType eq "Employee" and (emails.type eq "work")',
  'userType eq "Employee" and emails[type eq "work" and value co "@example.com"]',
  'emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]',
] as const;
