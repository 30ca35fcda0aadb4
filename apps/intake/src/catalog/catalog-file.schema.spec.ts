import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { CatalogError, loadCatalogDirectory, parseCatalog, readCatalogDirectory } from './catalog-file.schema';

const REPO_CATALOG = resolve(__dirname, '../../../../catalog');
const system = 'systems:\n  - { systemId: pg, name: PG, connectorId: postgres, ownerId: dana, environment: nonprod }\n';
const entitlement = (id: string, systemId = 'pg', extra = '') =>
  `  - { entitlementId: ${id}, systemId: ${systemId}, name: ${id}, externalRef: role_${id}, sensitivity: low, environment: nonprod, ownerId: dana, privileges: [read], maxDuration: P7D${extra} }\n`;
const problemsOf = (sources: { name: string; content: string }[]): string[] => {
  try {
    parseCatalog(sources);
  } catch (error) {
    if (error instanceof CatalogError) return error.problems.map((p) => `${p.location} ${p.path}: ${p.message}`);
    throw error;
  }
  throw new Error('the catalogue was accepted');
};

describe('catalogue as code', () => {
  it('the shipped catalogue is valid and holds what the end-to-end scenarios need', () => {
    const catalog = loadCatalogDirectory(REPO_CATALOG);
    const byId = new Map(catalog.entitlements.map((e) => [e.entitlementId, e]));
    // Every system is provisioned by a connector the platform ships (apps/connector-<connectorId>).
    expect(catalog.systems.filter((s) => !existsSync(resolve(REPO_CATALOG, '..', 'apps', `connector-${s.connectorId}`, 'src', 'main.ts')))).toEqual([]);
    expect(byId.get('deploy-token-prod')?.credential).toEqual({ type: 'short_lived_token' });
    expect(byId.get('workload-mtls-prod')?.credential).toEqual({ type: 'x509_certificate' });
    expect(byId.get('orders-staging-read')).toMatchObject({ sensitivity: 'low', environment: 'nonprod', privileges: ['read'], externalRef: 'grantline_app_read' });
    expect(byId.get('deploy-secrets-prod')).toMatchObject({ sensitivity: 'high', environment: 'prod', maxDuration: 'PT24H' });
    expect(byId.get('orders-prod-write')).toMatchObject({ environment: 'prod', privileges: expect.arrayContaining(['write']) });
    expect(catalog.digest).toMatch(/^[a-f0-9]{64}$/);
  });

  it('has a digest independent of file names, order and formatting', () => {
    const a = parseCatalog([{ name: 'a.yaml', content: `${system}entitlements:\n${entitlement('x')}${entitlement('y')}` }]);
    const b = parseCatalog([
      { name: 'z.yaml', content: `entitlements:\n${entitlement('y')}\n\n# comment\n${entitlement('x')}` },
      { name: 'b.yaml', content: system },
    ]);
    expect(b.digest).toBe(a.digest);
    const changed = parseCatalog([{ name: 'a.yaml', content: `${system}entitlements:\n${entitlement('x').replace('P7D', 'P1D')}${entitlement('y')}` }]);
    expect(changed.digest).not.toBe(a.digest);
  });

  it('reports YAML syntax errors with file and line', () => {
    expect(problemsOf([{ name: 'broken.yaml', content: 'systems:\n  - { systemId: pg\n' }])[0]).toMatch(/^broken\.yaml:\d+:\d+ \(yaml\): /);
  });

  it('reports a bad field with its file, line and path', () => {
    const content = `${system}entitlements:\n${entitlement('x').replace('sensitivity: low', 'sensitivity: extreme')}`;
    expect(problemsOf([{ name: 'e.yaml', content }])).toEqual([expect.stringMatching(/^e\.yaml:4:\d+ entitlements\.0\.sensitivity: /)]);
  });

  it('rejects unknown keys, dangling references and duplicates across files', () => {
    expect(problemsOf([{ name: 'a.yaml', content: `${system}extra: 1\n` }])).toEqual([expect.stringMatching(/unrecognized|Unrecognized/)]);
    expect(problemsOf([{ name: 'a.yaml', content: `${system}entitlements:\n${entitlement('x', 'nowhere')}` }])).toEqual([
      expect.stringContaining('entitlements[x].systemId: Unknown system: nowhere'),
    ]);
    expect(
      problemsOf([
        { name: 'a.yaml', content: `${system}entitlements:\n${entitlement('x')}` },
        { name: 'b.yaml', content: `entitlements:\n${entitlement('x')}` },
      ]),
    ).toEqual([expect.stringContaining('duplicate entitlement ids')]);
    expect(problemsOf([{ name: 'a.yaml', content: `${system}accessPackages:\n  - { accessPackageId: p, name: P, ownerId: dana, entitlementIds: [ghost] }\n` }])).toEqual([
      expect.stringContaining('Unknown entitlement: ghost'),
    ]);
  });

  it('finds the yaml files of a directory', () => {
    expect(readCatalogDirectory(REPO_CATALOG).map((source) => source.name)).toEqual(['access-packages.yaml', 'entitlements.yaml', 'systems.yaml']);
  });
});
