// Valid files are parsed on a fast path (plain values, no line map); lines are mapped only when asked
// for. These specs pin that the fast path changes nothing a reader of the bundle can see.
import { lintBundleFiles, loadBundleFromFiles } from './bundle-compiler';

const manifest = { path: 'bundle.yaml', content: 'kind: Bundle\nname: t\nversion: "1"\n' };

describe('bundle loading fast path', () => {
  it('Given a valid bundle, When loaded, Then each rule and toxic combination reports the line it starts on', () => {
    const rules = [
      'kind: RuleSet',
      'rules:',
      '  - id: first',
      '    effect: deny',
      '    reason: a',
      '',
      '  - id: second',
      '    effect: deny',
      '    reason: b',
    ].join('\n');
    const sod = [
      'kind: SodPolicy',
      'toxicCombinations:',
      '  - id: maker-checker',
      '    description: x',
      '    effect: deny',
      '    sides: [[{ entitlement: a }], [{ entitlement: b }]]',
    ].join('\n');
    const bundle = loadBundleFromFiles([manifest, { path: 'rules.yaml', content: rules }, { path: 'sod.yaml', content: `---\n${sod}\n` }]);
    expect(bundle.rules.map((r) => r.location)).toEqual([
      { file: 'rules.yaml', line: 3 },
      { file: 'rules.yaml', line: 7 },
    ]);
    expect(bundle.toxicCombinations[0]!.location).toEqual({ file: 'sod.yaml', line: 4 });
  });

  it('Given a document the fast parser refuses (a local tag), When loaded, Then the line-mapped parser decides as it always did', () => {
    const content = 'kind: RuleSet\nrules:\n  - id: tagged\n    effect: deny\n    reason: !note "tagged reason"\n';
    const bundle = loadBundleFromFiles([manifest, { path: 'rules.yaml', content }]);
    expect(bundle.rules[0]).toMatchObject({ id: 'tagged', reason: ['tagged reason'], location: { file: 'rules.yaml', line: 3 } });
  });

  it('Given a null document after a valid one, When linted, Then it is reported on its line as before', () => {
    const issues = lintBundleFiles([manifest, { path: 'rules.yaml', content: 'kind: RuleSet\nrules: [{ id: r, effect: deny, reason: x }]\n---\nnull\n' }]);
    expect(issues).toEqual([expect.objectContaining({ file: 'rules.yaml', line: 4 })]);
  });

  it('Given the same condition on many rules, When loaded, Then every rule gets a working condition', () => {
    const rule = (i: number) => `  - id: r${i}\n    when: request.emergency\n    effect: deny\n    reason: x\n`;
    const bundle = loadBundleFromFiles([manifest, { path: 'rules.yaml', content: `kind: RuleSet\nrules:\n${[0, 1, 2].map(rule).join('')}` }]);
    expect(bundle.rules.every((r) => r.when !== null)).toBe(true);
  });
});
