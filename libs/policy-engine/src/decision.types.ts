import type { CredentialType } from './bundle.schema';
import type { PolicyInput } from './input.schema';

export type Effect = 'deny' | 'auto_approve' | 'require_approval';
export type ApproverResolver = 'manager' | 'resource_owner' | 'nhi_owner' | 'group' | 'security' | 'third_party_risk';

export interface Approver {
  readonly resolver: ApproverResolver;
  /** The identity or group the resolver points at when the input names it (manager id, owner id, group name). */
  readonly ref: string | null;
}

export interface RouteStage {
  readonly name: string;
  readonly approvers: readonly Approver[];
  readonly quorum: number;
}

export interface Constraints {
  readonly maxDuration: string | null;
  readonly credentialType: CredentialType | null;
  readonly recertificationEvery: string | null;
  readonly breakGlassAllowed: boolean;
  readonly reviewRequired: boolean;
}

export interface RiskFactor {
  readonly id: string;
  readonly weight: number;
  readonly description: string;
}

export interface SodConflict {
  readonly combinationId: string;
  readonly description: string;
  readonly mode: 'enforce' | 'record';
  readonly effect: 'deny' | 'require_approval';
  /** For each side of the toxic combination, the entitlement ids that satisfy it (requested, current or pending). */
  readonly sides: readonly (readonly string[])[];
}

export interface RecordOnlyVerdict {
  readonly ruleId: string;
  readonly wouldHave: Effect | 'constrain';
  readonly entitlementId: string;
  readonly reason: string;
}

export interface EntitlementVerdict {
  readonly entitlementId: string;
  readonly effect: Effect;
  readonly matchedRules: readonly string[];
}

export interface Provenance {
  readonly bundleName: string;
  readonly bundleVersion: string;
  readonly bundleDigest: string;
  readonly engineVersion: string;
  /** The exact input the decision was computed from; re-evaluating it with the same bundle reproduces the decision. */
  readonly input: PolicyInput;
}

export interface Decision {
  readonly requestId: string;
  readonly effect: Effect;
  readonly route: readonly RouteStage[];
  readonly constraints: Constraints;
  /** The duration the grant gets: the requested one, or the maximum when the bundle clamps; null when denied. */
  readonly effectiveDuration: string | null;
  readonly risk: { readonly score: number; readonly factors: readonly RiskFactor[] };
  readonly sodConflicts: readonly SodConflict[];
  readonly reasons: readonly string[];
  readonly matchedRules: readonly string[];
  readonly recordOnly: readonly RecordOnlyVerdict[];
  readonly entitlements: readonly EntitlementVerdict[];
  readonly bundleDigest: string;
  readonly provenance: Provenance;
}
