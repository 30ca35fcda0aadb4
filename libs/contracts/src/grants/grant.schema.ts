import { z } from 'zod';
import { IdSchema, LIMITS, ShortTextSchema, TimestampSchema } from '../common/primitives.schema';
import { withoutSecrets } from '../common/no-secrets.schema';
import { CredentialTypeSchema } from '../policy/decision-recorded.schema';
import { defineEvent } from '../registry/event-definition';
import { TOPICS } from '../topics/topic.catalogue';

export const GrantOperationSchema = z.enum(['provision', 'deprovision']);
export type GrantOperation = z.infer<typeof GrantOperationSchema>;

export const DeprovisionReasonSchema = z.enum(['expiry', 'withdrawal', 'revocation', 'offboarding', 'break_glass_ttl']);
export type DeprovisionReason = z.infer<typeof DeprovisionReasonSchema>;

/**
 * Grant ids derive from the request (`<requestId>:<entitlementId>`), so every service that sees an approval
 * computes the same id, and a replayed approval cannot create a second grant.
 */
export function grantIdOf(requestId: string, entitlementId: string): string {
  return `${requestId}:${entitlementId}`;
}

/** `<grantId>:<operation>`: the same operation on the same grant is one side effect however often it is sent. */
export function idempotencyKeyOf(grantId: string, operation: GrantOperation): string {
  return `${grantId}:${operation}`;
}
const IdempotencyKeySchema = z
  .string()
  .regex(/^\S+:(provision|deprovision)$/)
  .max(LIMITS.id + 20);

export const GrantCreatedDataSchema = z.strictObject({
  grantId: IdSchema,
  requestId: IdSchema,
  beneficiaryId: IdSchema,
  entitlementId: IdSchema,
  systemId: IdSchema,
  connectorId: IdSchema,
  /** Target account in the system (login, role name, principal); decided at creation, reused for removal. */
  targetAccount: z.string().min(1).max(LIMITS.shortText),
  expiresAt: TimestampSchema,
  breakGlass: z.boolean().default(false),
  decisionId: IdSchema,
});
export type GrantCreatedData = z.infer<typeof GrantCreatedDataSchema>;

export const ProvisioningRequestedDataSchema = z.strictObject({
  grantId: IdSchema,
  connectorId: IdSchema,
  idempotencyKey: IdempotencyKeySchema,
  attempt: z.number().int().min(1),
});
export type ProvisioningRequestedData = z.infer<typeof ProvisioningRequestedDataSchema>;

export const GrantActivatedDataSchema = z.strictObject({
  grantId: IdSchema,
  activatedAt: TimestampSchema,
  expiresAt: TimestampSchema,
  /** The connector's reference to what it created, for reconciliation. */
  externalId: z.string().min(1).max(LIMITS.shortText).optional(),
});
export type GrantActivatedData = z.infer<typeof GrantActivatedDataSchema>;

export const ProvisioningFailedDataSchema = z.strictObject({
  grantId: IdSchema,
  operation: GrantOperationSchema,
  reason: ShortTextSchema,
  code: z.string().min(1).max(100),
  retriable: z.boolean(),
  attempts: z.number().int().min(1),
  /** true: no more retries — the grant is now `failed` and an alert has been raised. */
  terminal: z.boolean(),
  nextAttemptAt: TimestampSchema.optional(),
});
export type ProvisioningFailedData = z.infer<typeof ProvisioningFailedDataSchema>;

export const DeprovisioningRequestedDataSchema = z.strictObject({
  grantId: IdSchema,
  connectorId: IdSchema,
  reason: DeprovisionReasonSchema,
  idempotencyKey: IdempotencyKeySchema,
  attempt: z.number().int().min(1),
  /** The event that triggered removal (timer, withdrawal, revocation, offboarding). */
  triggeredBy: IdSchema.optional(),
});
export type DeprovisioningRequestedData = z.infer<typeof DeprovisioningRequestedDataSchema>;

export const GrantRevokedDataSchema = z.strictObject({
  grantId: IdSchema,
  reason: DeprovisionReasonSchema,
  revokedAt: TimestampSchema,
});
export type GrantRevokedData = z.infer<typeof GrantRevokedDataSchema>;

/**
 * A credential was issued for a grant. Only a reference (where the holder fetches it, e.g. a vault path) and a
 * fingerprint travel: any field named like a secret value is rejected, at any depth.
 */
export const CredentialIssuedDataSchema = withoutSecrets(
  z.strictObject({
    grantId: IdSchema,
    credentialId: IdSchema,
    credentialType: CredentialTypeSchema.exclude(['none']),
    credentialRef: z.string().min(1).max(LIMITS.shortText),
    fingerprint: z.string().regex(/^(sha256|sha1|md5):[A-Za-z0-9+/=:_-]{8,128}$/, {
      message: 'Invalid fingerprint: expected <algorithm>:<digest>, e.g. sha256:ab12...',
    }),
    issuedAt: TimestampSchema,
    expiresAt: TimestampSchema,
  }),
);
export type CredentialIssuedData = z.infer<typeof CredentialIssuedDataSchema>;

export const DriftDetectedDataSchema = z.strictObject({
  connectorId: IdSchema,
  systemId: IdSchema,
  kind: z.enum(['missing_in_target', 'unexpected_in_target', 'expired_but_present']),
  grantId: IdSchema.optional(),
  targetAccount: z.string().min(1).max(LIMITS.shortText),
  externalRef: z.string().min(1).max(LIMITS.shortText),
  detectedAt: TimestampSchema,
  remediation: z.enum(['reprovision', 'deprovision', 'report_only']),
});
export type DriftDetectedData = z.infer<typeof DriftDetectedDataSchema>;

/**
 * One reconciliation of a connector's target against the grants, finished: what was compared and how much drift
 * was found (each finding is its own `iga.grant.drift-detected.v1`, whose `detectedAt` is this `observedAt`).
 */
export const ReconciliationCompletedDataSchema = z.strictObject({
  reportId: IdSchema,
  connectorId: IdSchema,
  /** When the connector read the target: the instant the comparison is true for. */
  observedAt: TimestampSchema,
  /** Assignments the target reported in the roles the connector manages. */
  assignments: z.number().int().min(0),
  /** Grants that should be live in the target at `observedAt` (active, not in flight). */
  grantsExpected: z.number().int().min(0),
  drift: z.strictObject({
    missingInTarget: z.number().int().min(0),
    unexpectedInTarget: z.number().int().min(0),
    expiredButPresent: z.number().int().min(0),
  }),
});
export type ReconciliationCompletedData = z.infer<typeof ReconciliationCompletedDataSchema>;

export const GrantCreated = defineEvent('iga.grant.created', 1, TOPICS.grants, GrantCreatedDataSchema);
export const GrantProvisioningRequested = defineEvent('iga.grant.provisioning-requested', 1, TOPICS.grants, ProvisioningRequestedDataSchema);
export const GrantActivated = defineEvent('iga.grant.activated', 1, TOPICS.grants, GrantActivatedDataSchema);
export const GrantProvisioningFailed = defineEvent('iga.grant.provisioning-failed', 1, TOPICS.grants, ProvisioningFailedDataSchema);
export const GrantDeprovisioningRequested = defineEvent('iga.grant.deprovisioning-requested', 1, TOPICS.grants, DeprovisioningRequestedDataSchema);
export const GrantRevoked = defineEvent('iga.grant.revoked', 1, TOPICS.grants, GrantRevokedDataSchema);
export const GrantCredentialIssued = defineEvent('iga.grant.credential-issued', 1, TOPICS.grants, CredentialIssuedDataSchema);
export const GrantDriftDetected = defineEvent('iga.grant.drift-detected', 1, TOPICS.grants, DriftDetectedDataSchema);
export const GrantReconciliationCompleted = defineEvent('iga.grant.reconciliation-completed', 1, TOPICS.grants, ReconciliationCompletedDataSchema);
