import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { infraPaths } from './infra/infra.config';
import { runCommand } from './infra/process.util';
import { ensurePromtool } from './infra/promtool';

// The alert rules shipped for Grantline's own control plane, checked and unit-tested by Prometheus's own promtool.
const { root } = infraPaths();
const RULES_DIR = join(root, 'deploy', 'prometheus');
const RULES = 'grantline-alerts.yml';
const RULE_TESTS = 'grantline-alerts.test.yml';
/** Where the metrics the rules use are defined. */
const METRIC_SOURCES = ['libs/service-kit/src/metrics/service-metrics.ts', 'apps/provisioning/src/grants/provisioning.metrics.ts'];

describe('Prometheus alert rules (deploy/prometheus)', () => {
  let promtool: string;

  beforeAll(async () => {
    promtool = await ensurePromtool();
  }, 10 * 60_000);

  it('pass promtool check rules', async () => {
    const result = await runCommand(promtool, ['check', 'rules', RULES], { cwd: RULES_DIR, timeoutMs: 60_000 });

    expect(`${result.stdout}${result.stderr}`).toContain('SUCCESS: 5 rules found');
    expect(result.code).toBe(0);
  });

  it('fire exactly when their unit tests say (overdue revocations, irrevocable grants, dead letters growing)', async () => {
    const result = await runCommand(promtool, ['test', 'rules', RULE_TESTS], { cwd: RULES_DIR, timeoutMs: 60_000 });

    expect({ code: result.code, output: `${result.stdout}${result.stderr}` }).toEqual({ code: 0, output: expect.stringContaining('SUCCESS') });
  });

  it('use only metrics the services define', () => {
    const used = new Set(readFileSync(join(RULES_DIR, RULES), 'utf8').match(/grantline_[a-z_]+/g) ?? []);
    const defined = METRIC_SOURCES.map((file) => readFileSync(join(root, file), 'utf8')).join('\n');

    expect([...used].filter((name) => !defined.includes(`'${name}'`))).toEqual([]);
    expect(used.size).toBeGreaterThanOrEqual(5);
  });
});
