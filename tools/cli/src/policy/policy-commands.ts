// `grantline policy lint | simulate` (formerly tools/policy/cli.ts): the policy bundle's CI check and a what-if.
import { readFileSync } from 'node:fs';
import { bundleDigest, formatIssue, lintBundleFiles, loadBundleFromFiles, readBundleDirectory, simulate } from '@grantline/policy-engine';
import type { Output } from '../output';

/** Validates a bundle (for the policy repository's CI): exit 1 with file:line:col errors. */
export function policyLint(dir: string, io: Output): number {
  const files = readBundleDirectory(dir);
  if (files.length === 0) {
    io.err(`${dir}: no .yaml files found\n`);
    return 1;
  }
  const issues = lintBundleFiles(files);
  if (issues.length) {
    for (const issue of issues) io.err(`${dir.replace(/\/$/, '')}/${formatIssue(issue)}\n`);
    io.err(`${issues.length} problem${issues.length === 1 ? '' : 's'}\n`);
    return 1;
  }
  const bundle = loadBundleFromFiles(files);
  io.out(
    `ok  ${bundle.name}@${bundle.version}  ${files.length} files, ${bundle.rules.length} rules, ${bundle.toxicCombinations.length} toxic combinations, ` +
      `${bundle.riskFactors.length} risk factors\n    ${bundleDigest(files)}\n`,
  );
  return 0;
}

/** Prints the full decision for an engine input (and with `trace` every rule's outcome); records nothing. */
export function policySimulate(dir: string, inputPath: string, trace: boolean, io: Output): number {
  const bundle = loadBundleFromFiles(readBundleDirectory(dir));
  const input: unknown = JSON.parse(readFileSync(inputPath, 'utf8'));
  const { decision, trace: steps } = simulate(bundle, input);
  const { provenance: _provenance, ...shown } = decision;
  io.out(`${JSON.stringify(trace ? { ...shown, trace: steps } : shown, null, 2)}\n`);
  return 0;
}
