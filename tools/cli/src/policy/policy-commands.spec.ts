import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bufferedOutput } from '../output';
import { policyLint, policySimulate } from './policy-commands';

const SHIPPED = join(__dirname, '../../../../policies');

describe('grantline policy', () => {
  const dir = mkdtempSync(join(tmpdir(), 'grantline-policy-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('lint: the shipped bundle is ok, with its digest', () => {
    const io = bufferedOutput();
    expect(policyLint(SHIPPED, io)).toBe(0);
    expect(io.stdout()).toMatch(/^ok {2}\S+@\S+ {2}\d+ files, \d+ rules, .*\n {4}sha256:[a-f0-9]{64}\n$/);
  });

  it('lint: an empty directory, or a broken bundle, exits 1 naming the problem', () => {
    const empty = bufferedOutput();
    expect(policyLint(dir, empty)).toBe(1);
    expect(empty.stderr()).toBe(`${dir}: no .yaml files found\n`);

    const broken = mkdtempSync(join(dir, 'broken-'));
    writeFileSync(join(broken, 'bundle.yaml'), 'kind: Bundle\nname: x\n');
    const io = bufferedOutput();
    expect(policyLint(broken, io)).toBe(1);
    expect(io.stderr()).toMatch(/problems?\n$/);
  });

  it('simulate: prints the decision for an engine input, with the trace when asked', () => {
    const input = join(dir, 'input.json');
    writeFileSync(
      input,
      JSON.stringify({
        request: { id: 'req-1', duration: 'PT8H', justification: 'investigating a customer ticket' },
        subject: { id: 'hanna', kind: 'human', team: 'support', manager: 'max', attributes: {} },
        requester: { id: 'hanna' },
        entitlements: [{ id: 'wiki-read', system: 'wiki', sensitivity: 'low', environment: 'nonprod', owner: 'olivia', privilege: 'read' }],
        grants: [],
        now: '2025-06-02T10:00:00Z',
      }),
    );
    const io = bufferedOutput();
    expect(policySimulate(SHIPPED, input, true, io)).toBe(0);
    const shown = JSON.parse(io.stdout()) as Record<string, unknown>;
    expect(shown).toMatchObject({ requestId: 'req-1', effect: 'auto_approve', matchedRules: ['human-low-nonprod-read'] });
    expect(shown).toHaveProperty('trace');
    expect(shown).not.toHaveProperty('provenance');
  });
});
