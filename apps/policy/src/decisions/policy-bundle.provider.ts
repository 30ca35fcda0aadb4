import { resolve } from 'node:path';
import { loadBundleFromDirectory } from '@grantline/policy-engine';
import type { Bundle } from '@grantline/policy-engine';

/** The bundle the service decides with, loaded once at start. */
export const POLICY_BUNDLE = Symbol('POLICY_BUNDLE');
export const DEFAULT_BUNDLE_DIR = 'policies';

/** Reads `POLICY_BUNDLE_DIR` (default `policies/`, relative to the working directory); a bad bundle stops the start with file:line errors. */
export const loadPolicyBundle = (env: NodeJS.ProcessEnv = process.env): Bundle =>
  loadBundleFromDirectory(resolve(env['POLICY_BUNDLE_DIR'] ?? DEFAULT_BUNDLE_DIR));
