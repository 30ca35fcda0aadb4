/** The part of jest's project config the global hooks look at. */
export interface JestProjectLike {
  testPathIgnorePatterns?: readonly string[];
}

const SAMPLE_INTEGRATION_SPEC = '/repo/libs/example/src/example.int.spec.ts';

/**
 * Only `*.int.spec.ts` (and e2e) specs use infrastructure, so a run that ignores them (as
 * `npm run test:unit` does) needs none, even without GRANTLINE_INFRA=none.
 */
export function runExcludesIntegrationSpecs(project: JestProjectLike | undefined): boolean {
  return (project?.testPathIgnorePatterns ?? []).some((pattern) => {
    try {
      return new RegExp(pattern).test(SAMPLE_INTEGRATION_SPEC);
    } catch {
      return false;
    }
  });
}
