import { bindingsOf, parseKafkaAclEntitlement, refsOf } from './kafka-acl-entitlement';

function parsed(ref: string): ReturnType<typeof parseKafkaAclEntitlement> & { ok: true } {
  const result = parseKafkaAclEntitlement(ref);
  if (!result.ok) throw new Error(result.problem);
  return result;
}

describe('the Kafka ACL entitlement grammar', () => {
  it.each([
    ['topic:jit.orders:read', 'topic', 'jit.orders', 'literal', ['read']],
    ['topic:jit.orders:write', 'topic', 'jit.orders', 'literal', ['write']],
    ['topic:jit.orders.*:write', 'topic', 'jit.orders.', 'prefixed', ['write']],
    ['group:jit.orders-consumers:read', 'group', 'jit.orders-consumers', 'literal', ['read']],
    ['group:jit.orders-*:read', 'group', 'jit.orders-', 'prefixed', ['read']],
  ])('maps %s to %s %s (%s): %j', (ref, resource, name, patternType, operations) => {
    const { entitlement } = parsed(ref);
    expect(entitlement).toMatchObject({ ref, resource, name, patternType, operations, grantable: true });
    expect(bindingsOf(entitlement, 'User:svc-a')).toEqual(
      operations.map((operation) => ({ principal: 'User:svc-a', resourceType: resource, resourceName: name, patternType, operation })),
    );
  });

  it('reads a bare Kafka operation as revocable but not grantable (what the state report names a rule added by hand)', () => {
    expect(parsed('topic:jit.orders:all').entitlement).toMatchObject({ grantable: false, operations: ['all'] });
    expect(parsed('group:jit.g:describe').entitlement).toMatchObject({ grantable: false, operations: ['describe'] });
  });

  it.each([
    ['jit.orders:read', /entitlementRef "jit.orders:read": expected <topic\|group>/],
    ['cluster:kafka-cluster:alter', /expected <topic\|group>/],
    ['topic:jit.orders:fly', /access "fly" is not one of read, write/],
    ['group:jit.g:shout', /access "shout" is not one of read \(grantable on a group\)/],
    ['topic:jit/orders:read', /name "jit\/orders" must be/],
    ['topic:*:read', /name "\*" must be/],
    ['topic:jit.a:b:read', /expected/],
  ])('refuses %s, naming what is wrong', (ref, message) => {
    const result = parseKafkaAclEntitlement(ref);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problem).toMatch(message);
  });

  it('names the operations held on one pattern as refs: grantable accesses first, anything else by its operation', () => {
    expect(refsOf('topic', 'jit.orders', 'literal', new Set(['write', 'read']))).toEqual(['topic:jit.orders:read', 'topic:jit.orders:write']);
    expect(refsOf('topic', 'jit.o.', 'prefixed', new Set(['all', 'write']))).toEqual(['topic:jit.o.*:write', 'topic:jit.o.*:all']);
    expect(refsOf('group', 'jit.g', 'literal', new Set(['describe']))).toEqual(['group:jit.g:describe']);
    // every ref the report names parses back to the same pattern and operations
    for (const ref of refsOf('topic', 'jit.o.', 'prefixed', new Set(['all', 'write', 'read']))) expect(parsed(ref).entitlement.ref).toBe(ref);
  });
});
