import { BundleValidationError, DRAFT_LIMITS, EvaluationLimitExceeded, formatIssue, loadBundleFromFiles } from '@grantline/policy-engine';
import type { Bundle, BundleFile } from '@grantline/policy-engine';
import { ProblemException } from '@grantline/http-edge';
import type { ProblemType } from '@grantline/http-edge';

const INVALID_BUNDLE: ProblemType = { slug: 'invalid-bundle', title: 'Invalid policy bundle', status: 400 };
const DRAFT_LIMIT_EXCEEDED: ProblemType = { slug: 'draft-limit-exceeded', title: 'The draft bundle exceeds an evaluation limit', status: 400 };

/**
 * Compiles a bundle sent in a request body; a bad one is the caller's error, reported file:line:column. A draft is
 * untrusted and runs beside the live decision loop, so it is compiled with the engine's DRAFT_LIMITS: an expression
 * over a size or shape limit is an invalid bundle naming the rule and the limit, and its evaluation is metered.
 * The bundle the service decides with is loaded without them (decisions.module.ts), so nothing here changes it.
 */
export const compileDraftBundle = (files: readonly BundleFile[]): Bundle => {
  try {
    return loadBundleFromFiles(files, { limits: DRAFT_LIMITS });
  } catch (error) {
    if (!(error instanceof BundleValidationError)) throw error;
    const errors = error.issues.map((issue) => ({ location: `${issue.file}:${issue.line}:${issue.column}`, message: issue.message }));
    throw ProblemException.of(INVALID_BUNDLE, error.issues.map(formatIssue).join('; '), errors);
  }
};

/** Runs `work` over a draft; a draft that ran out of its evaluation budget is a 400 naming the rule and the limit. */
export const withinDraftLimits = <T>(work: () => T): T => {
  try {
    return work();
  } catch (error) {
    throw error instanceof EvaluationLimitExceeded ? draftLimitProblem(error) : error;
  }
};

export const draftLimitProblem = (error: EvaluationLimitExceeded): ProblemException =>
  ProblemException.of(DRAFT_LIMIT_EXCEEDED, error.message, [
    { field: 'bundle', message: `${error.limit}: at most ${error.max}${error.limit === 'maxEvaluationMillis' ? ' ms' : ''} per decision` },
  ]);
