import { z } from 'zod';
import type { AccountDeactivationOperation, ConnectorOperation, CredentialRequest, IdempotencyKey, RotationOperation } from './connector.types';

const name = z.string().min(1).max(256);

/**
 * Validates a command at the runner's boundary. The key must be derived from the grant and
 * operation: a key that does not match would silently defeat idempotency.
 */
export const connectorOperationSchema = z
  .object({
    grantId: name,
    operation: z.enum(['provision', 'deprovision']),
    idempotencyKey: z.string().min(3),
    account: name,
    entitlementRef: name,
    expiresAt: z.coerce.date().optional(),
    credential: z.object({ type: z.string().min(1), ttlSeconds: z.number().int().min(1), holders: z.array(name).max(20).default([]) }).optional(),
  })
  .refine((op) => op.operation === 'provision' || op.credential === undefined, {
    message: 'a credential can only be requested with provision',
    path: ['credential'],
  })
  .refine((op) => op.idempotencyKey === `${op.grantId}:${op.operation}`, {
    message: 'idempotencyKey must equal `${grantId}:${operation}`',
    path: ['idempotencyKey'],
  })
  .transform((op): ConnectorOperation => ({ ...op, idempotencyKey: `${op.grantId}:${op.operation}` }));

export const credentialRequestSchema = z
  .object({
    credentialId: name,
    idempotencyKey: z.string().min(3),
    type: name,
    grantId: name,
    // Nobody named: nobody may retrieve the secret (fail closed).
    holders: z.array(name).max(20).default([]),
    account: name,
    entitlementRefs: z.array(name),
    expiresAt: z.coerce.date(),
  })
  .refine((req) => req.idempotencyKey === `${req.credentialId}:issue`, {
    message: 'idempotencyKey must equal `${credentialId}:issue`',
    path: ['idempotencyKey'],
  })
  .transform((req): CredentialRequest => ({ ...req, idempotencyKey: `${req.credentialId}:issue` }));

/** `${grantId}:rotate` for a grant's first rotation, `${grantId}.r<n>:rotate` for rotation n (the contracts' rotationKeyOf). */
export function rotationIdempotencyKeyOf(grantId: string, rotation: number): IdempotencyKey {
  return rotation === 1 ? `${grantId}:rotate` : `${grantId}.r${rotation}:rotate`;
}

export const rotationOperationSchema = z
  .object({
    grantId: name,
    idempotencyKey: z.string().min(3),
    account: name,
    rotation: z.number().int().min(1).default(1),
    replacement: z
      .object({
        credentialId: name,
        type: z.string().min(1),
        entitlementRef: name,
        // Nobody named: nobody may retrieve the new secret (fail closed).
        holders: z.array(name).max(20).default([]),
        expiresAt: z.coerce.date(),
      })
      .optional(),
  })
  .refine((op) => op.idempotencyKey === rotationIdempotencyKeyOf(op.grantId, op.rotation), {
    message: 'idempotencyKey must equal `${grantId}:rotate` (rotation 1) or `${grantId}.r<rotation>:rotate`',
    path: ['idempotencyKey'],
  })
  .transform((op): RotationOperation => ({ ...op, idempotencyKey: rotationIdempotencyKeyOf(op.grantId, op.rotation) }));

export const accountDeactivationOperationSchema = z
  .object({
    identityId: name,
    idempotencyKey: z.string().min(3),
    account: name,
  })
  .refine((op) => op.idempotencyKey === `${op.identityId}:deactivate`, {
    message: 'idempotencyKey must equal `${identityId}:deactivate`',
    path: ['idempotencyKey'],
  })
  .transform((op): AccountDeactivationOperation => ({ ...op, idempotencyKey: `${op.identityId}:deactivate` }));
