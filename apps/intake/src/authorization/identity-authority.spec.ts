import type { Identity } from '@grantline/contracts';
import { attributesNotOwnedBy, authorityOf, keepOtherSourcesAttributes, withAttributes } from './identity-authority';

const alice = (attributes: Identity['attributes']): Identity => ({
  identityId: 'alice',
  kind: 'human',
  displayName: 'Alice',
  status: 'active',
  managerId: 'maria',
  attributes,
});

describe('identity facts come only from their authority', () => {
  it('given onCall, then only the on-call source owns it; every other attribute is the identity source', () => {
    expect(authorityOf('onCall')).toBe('oncall-source');
    expect(authorityOf('groups')).toBe('identity-source');
    expect(attributesNotOwnedBy({ onCall: true, groups: 'security' }, new Set(['member']))).toEqual([
      { attribute: 'onCall', authority: 'oncall-source' },
      { attribute: 'groups', authority: 'identity-source' },
    ]);
    expect(attributesNotOwnedBy({ onCall: true }, new Set(['oncall-source']))).toEqual([]);
  });

  it('when the identity source re-sends a person, then the on-call fact it does not own is kept, and its own are replaced', () => {
    const next = keepOtherSourcesAttributes(alice({ onCall: true, groups: 'sre' }), alice({ groups: 'payments' }), 'identity-source');
    expect(next.attributes).toEqual({ onCall: true, groups: 'payments' });
  });

  it('when the on-call source writes, then the identity source attributes are untouched and it cannot smuggle others in', () => {
    const next = keepOtherSourcesAttributes(alice({ groups: 'sre' }), alice({ onCall: true, groups: 'security' }), 'oncall-source');
    expect(next.attributes).toEqual({ groups: 'sre', onCall: true });
  });

  it('null removes an attribute', () => {
    expect(withAttributes(alice({ onCall: true, groups: 'sre' }), { onCall: null }).attributes).toEqual({ groups: 'sre' });
  });
});
