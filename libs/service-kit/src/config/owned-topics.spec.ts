import { TOPICS } from '@grantline/contracts';
import { topicsOwnedBy } from './owned-topics';

describe('topicsOwnedBy', () => {
  it('lists the topics a service is the single writer of', () => {
    expect(topicsOwnedBy('policy')).toEqual(expect.arrayContaining([TOPICS.decisions, TOPICS.policyBundles]));
    expect(topicsOwnedBy('intake')).toEqual(expect.arrayContaining([TOPICS.requests, TOPICS.identities]));
    expect(topicsOwnedBy('audit')).toEqual([TOPICS.audit]);
  });

  it('lists nothing for a name that owns no topic', () => {
    expect(topicsOwnedBy('nobody')).toEqual([]);
  });
});
