import { infraDown, infraPaths, infraSelection, otherLiveLeases, releaseLease } from './infra';
import type { JestProjectLike } from './infra/infra-need';
import { runExcludesIntegrationSpecs } from './infra/infra-need';

/**
 * Stops the infrastructure only when a jest run brought it up and no other jest run still
 * holds a lease on it; anything started by `npm run infra:up` or given through env stays.
 */
export default async function globalTeardown(_globalConfig?: unknown, project?: JestProjectLike): Promise<void> {
  if (infraSelection() === 'none' || runExcludesIntegrationSpecs(project)) return;
  const paths = infraPaths();
  releaseLease(paths);
  await infraDown({
    log: (line) => process.stderr.write(`${line}\n`),
    keepRunningIf: (state) => {
      if (state === undefined) return 'nothing recorded';
      if (state.owner !== 'jest') return 'started by npm run infra:up';
      const others = otherLiveLeases(paths);
      return others.length > 0 ? `jest run(s) ${others.join(', ')} still use it` : undefined;
    },
  });
}
