import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { ensureHelm } from './infra/helm';
import { infraPaths } from './infra/infra.config';
import { runChecked, runCommand } from './infra/process.util';

// The Helm chart rendered by the real `helm template` (built from the Go module proxy into .cache/ on first use),
// every rendered object validated against the Kubernetes API schemas (kubernetes-models), `helm lint --strict`, and
// the chart held equal to docker-compose.yml.
const ROOT = infraPaths().root;
const CHART = join(ROOT, 'deploy/helm/grantline');
const IDP = ['--set', 'oidc.issuer=https://idp.example.test', '--set', 'oidc.jwksUrl=https://idp.example.test/jwks.json'];
const BUILD_MINUTES = 30 * 60_000;

/** The services: every app with a src/main.ts, as `npm run build` (tools/build) finds them. */
const APPS = readdirSync(join(ROOT, 'apps'))
  .filter((name) => existsSync(join(ROOT, 'apps', name, 'src', 'main.ts')))
  .sort();

/** Variables only the chart sets: where it mounts the catalogue, the campaigns and the policy bundle ConfigMaps. */
const CHART_ONLY_VARIABLES = ['CATALOG_DIR', 'APPROVAL_CAMPAIGNS_DIR', 'POLICY_BUNDLE_DIR'];

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string } };
}
interface Probe {
  httpGet?: { path: string; port: string | number };
}
interface Container {
  name: string;
  image: string;
  env?: EnvVar[];
  ports?: { containerPort: number }[];
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  startupProbe?: Probe;
}
interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  data?: Record<string, string>;
  spec?: {
    replicas?: number;
    ports?: { port: number }[];
    selector?: { matchLabels?: Record<string, string> } & Record<string, string>;
    template?: { metadata?: { annotations?: Record<string, string> }; spec: { securityContext?: { runAsNonRoot?: boolean }; containers: Container[] } };
  };
}

let helm: string;

async function render(extra: readonly string[] = []): Promise<K8sObject[]> {
  const { stdout } = await runChecked('helm template', helm, ['template', 'grantline', CHART, '--namespace', 'grantline', ...IDP, ...extra], {
    timeoutMs: 120_000,
  });
  return parseAllDocuments(stdout)
    .map((document) => document.toJS() as K8sObject | null)
    .filter((object): object is K8sObject => object !== null);
}

// kubernetes-models ships ES modules only (an "import"-only exports map), which jest's CommonJS runtime cannot load:
// the objects are validated by a plain node child process, one model class per kind, every failure reported.
const VALIDATE_MODULE = `
const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const problems = [];
for (const object of JSON.parse(Buffer.concat(chunks).toString('utf8'))) {
  const [group, version] = object.apiVersion.includes('/') ? object.apiVersion.split('/') : ['', object.apiVersion];
  const where = object.kind + '/' + (object.metadata?.name ?? '?');
  try {
    const model = (await import('kubernetes-models/' + (group ? group + '/' : '') + version + '/' + object.kind))[object.kind];
    new model(object).validate();
  } catch (error) {
    problems.push(where + ': ' + (error instanceof Error ? error.message : String(error)).split('\\n').slice(0, 3).join(' '));
  }
}
process.stdout.write(JSON.stringify(problems));
`;

async function schemaProblems(objects: readonly K8sObject[]): Promise<string[]> {
  const result = await runCommand(process.execPath, ['--input-type=module', '-e', VALIDATE_MODULE], {
    cwd: ROOT,
    input: JSON.stringify(objects),
    timeoutMs: 120_000,
  });
  if (result.code !== 0) throw new Error(`the kubernetes-models validator failed: ${result.stderr}`);
  return JSON.parse(result.stdout) as string[];
}

const ofKind = (objects: readonly K8sObject[], kind: string): K8sObject[] => objects.filter((object) => object.kind === kind);
const named = (objects: readonly K8sObject[], kind: string, name: string): K8sObject => {
  const found = objects.find((object) => object.kind === kind && object.metadata.name === name);
  if (found === undefined) throw new Error(`no ${kind} ${name} in the rendered chart`);
  return found;
};
const containerOf = (deployment: K8sObject): Container => {
  const container = deployment.spec?.template?.spec.containers[0];
  if (container === undefined) throw new Error(`${deployment.metadata.name} has no container`);
  return container;
};

describe('the Helm chart deploy/helm/grantline', () => {
  let objects: K8sObject[];

  beforeAll(async () => {
    helm = await ensureHelm((line) => process.stdout.write(`${line}\n`));
    objects = await render();
  }, BUILD_MINUTES);

  it('passes helm lint --strict', async () => {
    const lint = await runCommand(helm, ['lint', '--strict', CHART, ...IDP], { timeoutMs: 120_000 });
    expect({ code: lint.code, output: lint.stdout }).toEqual({ code: 0, output: expect.stringContaining('0 chart(s) failed') });
  });

  it('renders only objects the Kubernetes API schemas accept', async () => {
    expect(objects.length).toBeGreaterThan(APPS.length * 2);
    expect(await schemaProblems(objects)).toEqual([]);
  });

  it('fails the schema validation on a malformed object (the validation can fail)', async () => {
    const deployment = structuredClone(named(objects, 'Deployment', 'grantline-intake'));
    (deployment.spec as Record<string, unknown>)['replicas'] = 'two';
    const service = structuredClone(named(objects, 'Service', 'grantline-intake'));
    (service.spec as Record<string, unknown>)['ports'] = [{ port: 'http' }];
    const problems = await schemaProblems([deployment, service]);
    expect(problems).toEqual([expect.stringMatching(/^Deployment\/grantline-intake: .*replicas/), expect.stringMatching(/^Service\/grantline-intake: .*port/)]);
  });

  it('runs one Deployment and one Service per service, with the probes, the scrape annotations and a non-root user', () => {
    expect(
      ofKind(objects, 'Deployment')
        .map((d) => d.metadata.labels?.['app.kubernetes.io/name'])
        .sort(),
    ).toEqual(APPS);
    expect(
      ofKind(objects, 'Service')
        .map((s) => s.metadata.labels?.['app.kubernetes.io/name'])
        .sort(),
    ).toEqual(APPS);
    for (const app of APPS) {
      const deployment = named(objects, 'Deployment', `grantline-${app}`);
      const container = containerOf(deployment);
      expect(container.image).toBe(`grantline/${app}:0.1.0`);
      expect(container.livenessProbe?.httpGet?.path).toBe('/health/live');
      expect(container.startupProbe?.httpGet?.path).toBe('/health/live');
      expect(container.readinessProbe?.httpGet?.path).toBe('/health/ready');
      const port = container.ports?.[0]?.containerPort;
      expect(deployment.spec?.template?.metadata?.annotations).toMatchObject({
        'prometheus.io/scrape': 'true',
        'prometheus.io/port': String(port),
        'prometheus.io/path': '/metrics',
      });
      expect(deployment.spec?.template?.spec.securityContext?.runAsNonRoot).toBe(true);
      expect(named(objects, 'Service', `grantline-${app}`).spec?.ports?.[0]?.port).toBe(port);
    }
  });

  it('runs a leased service as one active instance and a standby, each multi-replica service behind a disruption budget', () => {
    const values = parse(readFileSync(join(CHART, 'values.yaml'), 'utf8')) as { services: Record<string, { leased: boolean; replicas: number }> };
    for (const [app, service] of Object.entries(values.services)) {
      const deployment = named(objects, 'Deployment', `grantline-${app}`);
      if (service.leased) {
        expect([app, deployment.spec?.replicas, deployment.metadata.annotations?.['grantline.dev/leased']]).toEqual([app, 2, 'true']);
      }
      const budget = objects.find((object) => object.kind === 'PodDisruptionBudget' && object.metadata.name === `grantline-${app}`);
      expect([app, budget !== undefined]).toEqual([app, service.replicas > 1]);
    }
  });

  it("mounts the repository's catalogue, campaigns and policy bundle as ConfigMaps, byte for byte", () => {
    const yamlFiles = (dir: string): Record<string, string> =>
      Object.fromEntries(
        readdirSync(join(ROOT, dir))
          .filter((name) => name.endsWith('.yaml'))
          .map((name) => [name, readFileSync(join(ROOT, dir, name), 'utf8').replace(/\n$/, '')]),
      );
    expect(named(objects, 'ConfigMap', 'grantline-catalog').data).toEqual(yamlFiles('catalog'));
    expect(named(objects, 'ConfigMap', 'grantline-campaigns').data).toEqual(yamlFiles('catalog/campaigns'));
    expect(named(objects, 'ConfigMap', 'grantline-policies').data).toEqual(yamlFiles('policies'));
    const env = (app: string): string[] => (containerOf(named(objects, 'Deployment', `grantline-${app}`)).env ?? []).map((variable) => variable.name);
    expect(env('intake')).toContain('CATALOG_DIR');
    expect(env('policy')).toContain('POLICY_BUNDLE_DIR');
    expect(env('approval')).toContain('APPROVAL_CAMPAIGNS_DIR');
  });

  it('keeps every secret out of the rendered objects: passwords and connection strings are Secret references', () => {
    for (const deployment of ofKind(objects, 'Deployment')) {
      for (const variable of containerOf(deployment).env ?? []) {
        if (/PASSWORD|PG_URL|TOKEN|SEALING_KEY/.test(variable.name))
          expect([deployment.metadata.name, variable.name, variable.valueFrom?.secretKeyRef]).toEqual([
            deployment.metadata.name,
            variable.name,
            expect.anything(),
          ]);
      }
    }
  });

  it('refuses to render without an identity provider, naming the value', async () => {
    const result = await runCommand(helm, ['template', 'grantline', CHART], { timeoutMs: 120_000 });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/\/oidc\/issuer/);
  });

  it('runs the services of docker-compose.yml on the same ports with the same variables', () => {
    const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as {
      services: Record<string, { build?: unknown; environment?: Record<string, string> }>;
    };
    const composeApps = Object.entries(compose.services)
      .filter(([name, service]) => service.build !== undefined && APPS.includes(name))
      .map(([name]) => name)
      .sort();
    expect(composeApps).toEqual(APPS);
    for (const app of APPS) {
      const composeEnv = compose.services[app]?.environment ?? {};
      const chartEnv = containerOf(named(objects, 'Deployment', `grantline-${app}`)).env ?? [];
      const chartNames = chartEnv.map((variable) => variable.name).filter((name) => !CHART_ONLY_VARIABLES.includes(name));
      expect([app, chartNames.sort()]).toEqual([app, Object.keys(composeEnv).sort()]);
      expect([app, chartEnv.find((variable) => variable.name === 'PORT')?.value]).toEqual([app, composeEnv['PORT']]);
      expect([app, chartEnv.find((variable) => variable.name === 'KAFKA_SASL_USERNAME')?.value]).toEqual([app, composeEnv['KAFKA_SASL_USERNAME']]);
    }
  });
});
