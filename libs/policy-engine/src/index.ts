export type {
  Approver,
  ApproverResolver,
  Constraints,
  Decision,
  Effect,
  EntitlementVerdict,
  Provenance,
  RecordOnlyVerdict,
  RiskFactor,
  RouteStage,
  SodConflict,
} from './decision.types';
export type { Bundle, BundleFile, BundleIssue, CompiledRule, SourceLocation } from './bundle.types';
export type {
  Entitlement,
  Environment,
  Grant,
  PolicyInput,
  PolicyInputDraft,
  PolicyRequest,
  Privilege,
  Requester,
  RequesterRelation,
  Sensitivity,
  Subject,
  SubjectKind,
} from './input.schema';
export { NHI_KINDS, SUBJECT_KINDS, parsePolicyInput, policyInputSchema } from './input.schema';
export { BundleValidationError, bundleDigest, canonicalFiles, formatIssue, lintBundleFiles, loadBundleFromFiles } from './bundle-compiler';
export type { CompileBundleOptions } from './bundle-compiler';
export { DRAFT_LIMITS, EvaluationBudget, EvaluationLimitExceeded } from './cel.limits';
export type { CelCompileLimits, DraftLimitName, DraftLimits, EvaluationLimits } from './cel.limits';
export { loadBundleFromDirectory, readBundleDirectory } from './bundle-loader';
// The compile stages on their own, for tooling that profiles or checks them (bench/policy/compile-profile.ts).
export { bundleDocumentSchema } from './bundle.schema';
export { compileCondition } from './cel';
export type { CompileOptions, CompileResult } from './cel';
export type { Reproduction, RuleOutcome, RuleTrace } from './evaluate';
export { ENGINE_VERSION, canonicalJson, evaluate, evaluateValidated, reproduce, simulate } from './evaluate';
export type { Holding, SodViolation } from './sod';
export { scanSodViolations } from './sod';
export { formatIsoDuration, parseIsoDuration } from './duration';
export type { BacktestExample, BacktestOptions, BacktestReport, ChangeKind, HistoryEntry, ProgressListener } from './backtest';
export { BacktestAccumulator, CHANGE_KINDS, MAX_LISTED_ERRORS, backtest, backtestAsync, classifyChange } from './backtest';
export type { ProgressState, RenderOptions } from './report-render';
export { renderBacktestReport, renderProgressBar } from './report-render';
export type { FieldDifference, RecordedReproduction } from './recorded-reproduction';
export { bundleDigestOfRecord, reproduceRecorded } from './recorded-reproduction';
export type { NotReproducibleWhy } from './recorded-reproduction';
export { reproduceFromLog } from './recorded-reproduction';
