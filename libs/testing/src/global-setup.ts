import { acquireLease, describeComponent, exportEndpoints, infraDown, infraPaths, infraSelection, infraUp, otherLiveLeases, releaseLease } from './infra';
import type { JestProjectLike } from './infra/infra-need';
import { runExcludesIntegrationSpecs } from './infra/infra-need';

const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

/**
 * Once per jest run: bring the infrastructure up (or reuse it) and export its endpoints into
 * process.env, which the test workers inherit.
 */
export default async function globalSetup(_globalConfig?: unknown, project?: JestProjectLike): Promise<void> {
  if (infraSelection() === 'none') {
    log('grantline infra: skipped (GRANTLINE_INFRA=none)');
    return;
  }
  if (runExcludesIntegrationSpecs(project)) {
    log('grantline infra: skipped (this run ignores *.int.spec.ts)');
    return;
  }
  const paths = infraPaths();
  acquireLease(paths);
  const started = Date.now();
  try {
    const result = await infraUp({ owner: 'jest', log });
    exportEndpoints(result.components);
    log(
      `\ngrantline infra (${((Date.now() - started) / 1000).toFixed(1)} s; started: ${result.started.join(', ') || 'none'}, reused: ${result.reused.join(', ') || 'none'}):`,
    );
    for (const runtime of result.components) log(`  ${describeComponent(runtime)}`);
  } catch (err) {
    // jest skips globalTeardown when globalSetup throws: stop what this run started
    releaseLease(paths);
    await infraDown({
      log,
      keepRunningIf: (state) =>
        state?.owner !== 'jest' ? 'started by npm run infra:up' : otherLiveLeases(paths).length > 0 ? 'another jest run uses it' : undefined,
    }).catch(() => undefined);
    throw err;
  }
}
