import { BundleValidationError, formatIssue, loadBundleFromFiles } from '@grantline/policy-engine';
import type { Bundle, BundleFile } from '@grantline/policy-engine';
import { ProblemException } from '@grantline/http-edge';
import type { ProblemType } from '@grantline/http-edge';

const INVALID_BUNDLE: ProblemType = { slug: 'invalid-bundle', title: 'Invalid policy bundle', status: 400 };

/** Compiles a bundle sent in a request body; a bad one is the caller's error, reported file:line:column. */
export const compileDraftBundle = (files: readonly BundleFile[]): Bundle => {
  try {
    return loadBundleFromFiles(files);
  } catch (error) {
    if (!(error instanceof BundleValidationError)) throw error;
    const errors = error.issues.map((issue) => ({ location: `${issue.file}:${issue.line}:${issue.column}`, message: issue.message }));
    throw ProblemException.of(INVALID_BUNDLE, error.issues.map(formatIssue).join('; '), errors);
  }
};
