import { z } from 'zod';
import type { AclBinding, AclOperation, AclPatternType } from '@grantline/messaging';

// The entitlement grammar: what a catalogue `externalRef` of the Kafka ACL connector names, and the ACL bindings it
// stands for. `<resource>:<name>[*]:<access>`, e.g. `topic:jit.orders.events:read`, `topic:jit.orders.*:write`
// (PREFIXED: every topic starting `jit.orders.`), `group:jit.orders-consumers:read`.

export type KafkaAclResource = 'topic' | 'group';

/** What each grantable access means, as the set of operations granted on the resource (Kafka implies DESCRIBE from each). */
export const GRANTABLE_ACCESS: Readonly<Record<KafkaAclResource, Readonly<Record<string, readonly AclOperation[]>>>> = {
  topic: { read: ['read'], write: ['write'] },
  group: { read: ['read'] },
};

/**
 * Every Kafka operation, as a revocable access: the state report names an ALLOW rule the grammar does not grant
 * (e.g. one added by hand with `all`) by its operation, so reconciliation can report it and revoke exactly it.
 */
const OPERATIONS: readonly AclOperation[] = [
  'read',
  'write',
  'create',
  'delete',
  'alter',
  'describe',
  'describe-configs',
  'alter-configs',
  'cluster-action',
  'idempotent-write',
  'all',
];

/** Kafka's legal topic characters (and group names held to the same, so every name round-trips through a ref). */
const NAME = /^[A-Za-z0-9._-]{1,249}$/;

export const kafkaAclEntitlementSchema = z
  .string()
  .regex(/^(topic|group):[^:]+:[a-z-]+$/, { message: 'expected <topic|group>:<name>[*]:<access>, e.g. topic:jit.orders:write' })
  .transform((ref, ctx) => {
    const [resource, rawName, access] = ref.split(':') as [KafkaAclResource, string, string];
    const prefixed = rawName.endsWith('*');
    const name = prefixed ? rawName.slice(0, -1) : rawName;
    if (!NAME.test(name)) {
      ctx.addIssue({ code: 'custom', message: `name "${rawName}" must be 1-249 of [A-Za-z0-9._-], optionally ending in * (a prefix)` });
      return z.NEVER;
    }
    const grantable = GRANTABLE_ACCESS[resource][access];
    if (grantable === undefined && !OPERATIONS.includes(access as AclOperation)) {
      ctx.addIssue({
        code: 'custom',
        message: `access "${access}" is not one of ${Object.keys(GRANTABLE_ACCESS[resource]).join(', ')} (grantable on a ${resource}) or a Kafka operation`,
      });
      return z.NEVER;
    }
    const entitlement: KafkaAclEntitlement = {
      ref: formatEntitlementRef(resource, name, prefixed ? 'prefixed' : 'literal', access),
      resource,
      name,
      patternType: prefixed ? 'prefixed' : 'literal',
      access,
      grantable: grantable !== undefined,
      operations: grantable ?? [access as AclOperation],
    };
    return entitlement;
  });

export interface KafkaAclEntitlement {
  /** The canonical ref (the input: refs have one spelling). */
  readonly ref: string;
  readonly resource: KafkaAclResource;
  /** The resource name, or the prefix of a PREFIXED pattern (without the `*`). */
  readonly name: string;
  readonly patternType: AclPatternType;
  readonly access: string;
  /** Whether provisioning may create it; a bare Kafka operation outside the grammar can only be revoked. */
  readonly grantable: boolean;
  readonly operations: readonly AclOperation[];
}

export function formatEntitlementRef(resource: KafkaAclResource, name: string, patternType: AclPatternType, access: string): string {
  return `${resource}:${name}${patternType === 'prefixed' ? '*' : ''}:${access}`;
}

/** Parses a ref; the error names the field and what is wrong, never more. */
export function parseKafkaAclEntitlement(ref: string): { ok: true; entitlement: KafkaAclEntitlement } | { ok: false; problem: string } {
  const parsed = kafkaAclEntitlementSchema.safeParse(ref);
  if (parsed.success) return { ok: true, entitlement: parsed.data };
  return { ok: false, problem: `entitlementRef "${ref}": ${parsed.error.issues.map((issue) => issue.message).join('; ')}` };
}

/** The ALLOW bindings (host `*`) an entitlement stands for, for one principal. */
export function bindingsOf(entitlement: KafkaAclEntitlement, principal: string): AclBinding[] {
  return entitlement.operations.map((operation) => ({
    principal,
    resourceType: entitlement.resource,
    resourceName: entitlement.name,
    patternType: entitlement.patternType,
    operation,
  }));
}

/**
 * The refs a set of operations on one resource pattern amounts to: each grantable access whose operations are all
 * present, then every operation left over by its own name (so nothing held goes unreported).
 */
export function refsOf(resource: KafkaAclResource, name: string, patternType: AclPatternType, operations: ReadonlySet<AclOperation>): string[] {
  const covered = new Set<AclOperation>();
  const refs: string[] = [];
  for (const [access, needed] of Object.entries(GRANTABLE_ACCESS[resource])) {
    if (needed.every((operation) => operations.has(operation))) {
      refs.push(formatEntitlementRef(resource, name, patternType, access));
      needed.forEach((operation) => covered.add(operation));
    }
  }
  for (const operation of operations) if (!covered.has(operation)) refs.push(formatEntitlementRef(resource, name, patternType, operation));
  return refs;
}
