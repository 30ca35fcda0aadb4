// policy lint <dir>                 validate a bundle (for the policy repository's CI); exit 1 with file:line errors
// policy simulate <dir> <input.json> print the full decision (and --trace: every rule's outcome); records nothing
// Run: node -r @swc-node/register tools/policy/cli.ts lint policies
import { readFileSync } from 'node:fs';
import {
  bundleDigest,
  formatIssue,
  lintBundleFiles,
  loadBundleFromFiles,
  readBundleDirectory,
  simulate,
} from '@grantline/policy-engine';

const usage = 'usage: policy lint <bundle-dir> | policy simulate <bundle-dir> <input.json> [--trace]';

const lint = (dir: string): number => {
  const files = readBundleDirectory(dir);
  if (files.length === 0) {
    process.stderr.write(`${dir}: no .yaml files found\n`);
    return 1;
  }
  const issues = lintBundleFiles(files);
  if (issues.length) {
    for (const i of issues) process.stderr.write(`${dir.replace(/\/$/, '')}/${formatIssue(i)}\n`);
    process.stderr.write(`${issues.length} problem${issues.length === 1 ? '' : 's'}\n`);
    return 1;
  }
  const b = loadBundleFromFiles(files);
  process.stdout.write(
    `ok  ${b.name}@${b.version}  ${files.length} files, ${b.rules.length} rules, ${b.toxicCombinations.length} toxic combinations, ` +
      `${b.riskFactors.length} risk factors\n    ${bundleDigest(files)}\n`,
  );
  return 0;
};

const sim = (dir: string, inputPath: string, withTrace: boolean): number => {
  const bundle = loadBundleFromFiles(readBundleDirectory(dir));
  const input: unknown = JSON.parse(readFileSync(inputPath, 'utf8'));
  const { decision, trace } = simulate(bundle, input);
  const { provenance: _provenance, ...shown } = decision;
  process.stdout.write(`${JSON.stringify(withTrace ? { ...shown, trace } : shown, null, 2)}\n`);
  return 0;
};

const main = (argv: readonly string[]): number => {
  const [command, ...rest] = argv;
  try {
    if (command === 'lint' && rest[0]) return lint(rest[0]);
    if (command === 'simulate' && rest[0] && rest[1]) return sim(rest[0], rest[1], rest.includes('--trace'));
  } catch (e) {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
  process.stderr.write(`${usage}\n`);
  return 2;
};

process.exitCode = main(process.argv.slice(2));
