import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { infraPaths } from './infra.config';
import { requireGo } from './prerequisites';
import { runChecked } from './process.util';

/** The Helm release the chart is rendered and linted with; the Go module proxy serves it (v3: the chart is apiVersion v2). */
export const HELM_MODULE = 'helm.sh/helm/v3/cmd/helm';
export const HELM_VERSION = 'v3.21.4';

/**
 * `helm`, built from its module source by the local Go toolchain into the project's cache once per version (`go
 * install`, as FerretDB is built): nothing is installed outside the checkout, and a fresh machine needs only go.
 * About 90 s on first use (downloads included), nothing after.
 */
export async function ensureHelm(log: (line: string) => void = () => undefined): Promise<string> {
  const dir = join(infraPaths().cache, 'helm', HELM_VERSION);
  const helm = join(dir, 'helm');
  if (existsSync(helm)) return helm;
  await requireGo([1, 24]);
  const started = Date.now();
  log(`helm: building ${HELM_MODULE}@${HELM_VERSION} from Go module source (first run only, about a minute or two)...`);
  const staging = `${dir}.partial-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  try {
    await runChecked('building helm', 'go', ['install', '-trimpath', `${HELM_MODULE}@${HELM_VERSION}`], {
      env: {
        ...process.env,
        GOBIN: staging,
        // never let a go.mod `toolchain` line download another Go toolchain behind our back
        GOTOOLCHAIN: 'local',
        GOFLAGS: '-buildvcs=false',
        CGO_ENABLED: '0',
      },
      timeoutMs: 30 * 60_000,
    });
    mkdirSync(dir, { recursive: true });
    renameSync(join(staging, 'helm'), helm);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  log(`helm: built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return helm;
}
