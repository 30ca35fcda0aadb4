import type { BundleManifest, ConstraintsSpec, EntitlementSelector, StageSpec } from './bundle.schema';
import type { CompiledCondition } from './cel';
import type { EvaluationBudget } from './cel.limits';
import type { Effect } from './decision.types';

export interface SourceLocation {
  readonly file: string;
  readonly line: number;
}

/** A reason text with `{{ path }}` placeholders split once at load. */
export type ReasonTemplate = readonly (string | readonly string[])[];

export interface CompiledMatch {
  readonly subjectKinds: ReadonlySet<string> | null;
  readonly environments: ReadonlySet<string> | null;
  readonly sensitivities: ReadonlySet<string> | null;
  readonly privileges: ReadonlySet<string> | null;
  readonly systems: ReadonlySet<string> | null;
  readonly emergency: boolean | null;
}

export interface CompiledRule {
  readonly id: string;
  readonly description: string | null;
  readonly mode: 'enforce' | 'record';
  readonly effect: Effect | 'constrain';
  readonly reason: ReasonTemplate;
  readonly stages: readonly StageSpec[];
  readonly constraints: ConstraintsSpec | null;
  readonly risk: { readonly factor: string; readonly weight: number } | null;
  readonly match: CompiledMatch | null;
  readonly when: CompiledCondition | null;
  readonly whenSource: string | null;
  readonly location: SourceLocation;
}

export interface CompiledToxicCombination {
  readonly id: string;
  readonly description: string;
  readonly mode: 'enforce' | 'record';
  readonly effect: 'deny' | 'require_approval';
  readonly stages: readonly StageSpec[];
  readonly sides: readonly (readonly EntitlementSelector[])[];
  readonly location: SourceLocation;
}

export interface CompiledRiskFactor {
  readonly id: string;
  readonly description: string;
  readonly weight: number;
  readonly match: CompiledMatch | null;
  readonly when: CompiledCondition | null;
}

export interface BundleFile {
  readonly path: string;
  readonly content: string;
}

/** A loaded, validated and compiled bundle. Immutable; safe to share between evaluations. */
export interface Bundle {
  readonly name: string;
  readonly version: string;
  readonly digest: string;
  readonly settings: BundleManifest['settings'];
  readonly rules: readonly CompiledRule[];
  readonly toxicCombinations: readonly CompiledToxicCombination[];
  readonly riskFactors: readonly CompiledRiskFactor[];
  readonly escalate: {
    readonly atOrAbove: number;
    readonly reason: string;
    readonly stages: readonly StageSpec[];
    readonly unless: CompiledCondition | null;
  } | null;
  /** Canonical files (sorted, normalised): what the digest covers, and what the policy service publishes. */
  readonly files: readonly BundleFile[];
  /**
   * A draft's (compiled with limits): the running count its conditions tick. Evaluation restarts it for every
   * decision and stops the decision (EvaluationLimitExceeded) when it runs out. Absent for a shipped bundle.
   */
  readonly budget?: EvaluationBudget;
}

export interface BundleIssue {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly message: string;
}
