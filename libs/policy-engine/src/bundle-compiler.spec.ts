import { BundleValidationError, bundleDigest, lintBundleFiles, loadBundleFromFiles } from './bundle-compiler';
import { loadBundleFromDirectory, readBundleDirectory } from './bundle-loader';

const manifest = { path: 'bundle.yaml', content: 'kind: Bundle\nname: t\nversion: "1"\n' };
const issuesFor = (content: string, path = 'rules.yaml') => lintBundleFiles([manifest, { path, content }]);

describe('bundle loading', () => {
  it('Given the shipped example bundle, When it is linted, Then it has no issues and compiles its rules', () => {
    const files = readBundleDirectory(`${__dirname}/../../../policies`);
    expect(lintBundleFiles(files)).toEqual([]);
    const bundle = loadBundleFromDirectory(`${__dirname}/../../../policies`);
    expect(bundle.rules.length).toBeGreaterThan(10);
    expect(bundle.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('Given a rule with a wrong effect on line 7, When linted, Then the issue names the file, line 7 and the problem', () => {
    const issues = issuesFor(
      ['kind: RuleSet', 'rules:', '  - id: ok-rule', '    effect: deny', '    reason: fine', '  - id: bad', '    effect: allow', '    reason: x'].join('\n'),
    );
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ file: 'rules.yaml', line: 7 });
    expect(issues[0]!.message).toContain('rules.1.effect');
  });

  it('Given a missing required field, When linted, Then the issue points at the enclosing rule line', () => {
    const issues = issuesFor(['kind: RuleSet', 'rules:', '  - id: no-reason', '    effect: deny'].join('\n'));
    expect(issues[0]).toMatchObject({ file: 'rules.yaml', line: 3 });
    expect(issues[0]!.message).toMatch(/reason/);
  });

  it('Given an invalid CEL condition, When linted, Then the issue is a CEL error on the line of `when`', () => {
    const issues = issuesFor(['kind: RuleSet', 'rules:', '  - id: r', '    effect: deny', '    reason: x', '    when: entitlement.system == '].join('\n'));
    expect(issues).toEqual([expect.objectContaining({ file: 'rules.yaml', line: 6, message: expect.stringMatching(/^CEL: /) })]);
  });

  it('Given a condition that is not boolean or uses an unknown variable, When linted, Then both are refused', () => {
    const issues = issuesFor(
      [
        'kind: RuleSet',
        'rules:',
        '  - id: a',
        '    effect: deny',
        '    reason: x',
        '    when: "1 + 2"',
        '  - id: b',
        '    effect: deny',
        '    reason: x',
        '    when: user.admin',
      ].join('\n'),
    );
    expect(issues.map((i) => i.line)).toEqual([6, 10]);
  });

  it('Given a YAML syntax error, When linted, Then the YAML problem is reported with its line', () => {
    const issues = issuesFor('kind: RuleSet\nrules:\n  - id: r\n    reason: [unclosed\n');
    expect(issues[0]).toMatchObject({ file: 'rules.yaml' });
    expect(issues[0]!.message).toMatch(/^YAML: /);
    expect(issues[0]!.line).toBeGreaterThanOrEqual(4);
  });

  it('Given two rules with the same id in different files, When linted, Then the duplicate names the first definition', () => {
    const rule = 'kind: RuleSet\nrules:\n  - id: same\n    effect: deny\n    reason: x\n';
    const issues = lintBundleFiles([manifest, { path: 'a.yaml', content: rule }, { path: 'b.yaml', content: rule }]);
    expect(issues).toEqual([expect.objectContaining({ file: 'b.yaml', line: 3, message: 'duplicate id "same" (first defined at a.yaml:3)' })]);
  });

  it('Given no Bundle manifest, When loaded, Then loading throws a BundleValidationError', () => {
    expect(() => loadBundleFromFiles([{ path: 'r.yaml', content: 'kind: RuleSet\nrules:\n  - {id: r, effect: deny, reason: x}\n' }])).toThrow(
      BundleValidationError,
    );
  });

  it('Given a reason placeholder outside the CEL variables, When linted, Then it is refused', () => {
    const issues = issuesFor('kind: RuleSet\nrules:\n  - id: r\n    effect: deny\n    reason: "hello {{user.name}}"\n');
    expect(issues[0]).toMatchObject({ line: 5 });
  });

  it('Given the same files in another order with CRLF and trailing blanks, When digested, Then the digest is the same', () => {
    const a = [manifest, { path: 'r.yaml', content: 'kind: RuleSet\nrules:\n  - {id: r, effect: deny, reason: x}\n' }];
    const b = [{ path: './r.yaml', content: 'kind: RuleSet  \r\nrules:\r\n  - {id: r, effect: deny, reason: x}\r\n\r\n' }, manifest];
    expect(bundleDigest(b)).toBe(bundleDigest(a));
    expect(bundleDigest([manifest, { path: 'r.yaml', content: a[1]!.content.replace('x', 'y') }])).not.toBe(bundleDigest(a));
  });
});
