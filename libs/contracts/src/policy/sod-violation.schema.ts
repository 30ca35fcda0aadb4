import { z } from 'zod';
import { IdSchema, LIMITS, Sha256HexSchema, ShortTextSchema, TimestampSchema, idListSchema } from '../common/primitives.schema';
import { defineEvent } from '../registry/event-definition';
import { TOPICS } from '../topics/topic.catalogue';

export const SodScanTriggerSchema = z.enum(['scheduled', 'on_demand']);

/**
 * Detective separation of duties: an identity already holds every side of a toxic combination, through grants,
 * through access found on a target without a grant (drift), or both. One event per identity and combination per
 * scan; `violationId` is the same for the same holdings in every scan, so a consumer opens one review per
 * violation, not one per scan.
 */
export const SodViolationDetectedDataSchema = z.strictObject({
  /** Deterministic: identity, combination and the sorted entitlements held on each side. */
  violationId: IdSchema,
  scanId: IdSchema,
  identityId: IdSchema,
  combinationId: IdSchema,
  description: ShortTextSchema,
  /** Per side of the combination, the entitlement ids the identity holds on it. */
  sides: z
    .array(idListSchema({ min: 1 }))
    .min(2)
    .max(LIMITS.listItems),
  /** The Grantline grants among the holdings (empty when all of it was found on the targets only). */
  grantIds: idListSchema(),
  /** Entitlements held on a target with no grant behind them (drift findings). */
  unmanagedEntitlementIds: idListSchema(),
  trigger: SodScanTriggerSchema,
  bundleDigest: Sha256HexSchema,
  detectedAt: TimestampSchema,
});
export type SodViolationDetectedData = z.infer<typeof SodViolationDetectedDataSchema>;

/** A scan ran to the end: the evidence that the detective control ran, violations or not. */
export const SodScanCompletedDataSchema = z.strictObject({
  scanId: IdSchema,
  trigger: SodScanTriggerSchema,
  requestedBy: IdSchema,
  bundleDigest: Sha256HexSchema,
  identitiesScanned: z.number().int().nonnegative(),
  violations: z.number().int().nonnegative(),
  startedAt: TimestampSchema,
  completedAt: TimestampSchema,
});
export type SodScanCompletedData = z.infer<typeof SodScanCompletedDataSchema>;

export const PolicySodViolationDetected = defineEvent('iga.policy.sod-violation-detected', 1, TOPICS.decisions, SodViolationDetectedDataSchema);
export const PolicySodScanCompleted = defineEvent('iga.policy.sod-scan-completed', 1, TOPICS.decisions, SodScanCompletedDataSchema);
