import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { CampaignDefinitionError, indexDefinitions, parseCampaignDefinition } from './domain/campaign-definition';
import type { CampaignDefinition } from './domain/campaign-definition';

export const CERTIFICATION_CONFIG = Symbol('CERTIFICATION_CONFIG');

export interface CertificationConfig {
  /** The campaign definitions (catalog/campaigns/*.yaml), by id. */
  readonly definitions: ReadonlyMap<string, CampaignDefinition>;
}

/** The repository's catalog/campaigns, four levels above this file (apps/approval/src/certification). */
export const DEFAULT_CAMPAIGNS_DIR = resolve(__dirname, '../../../../catalog/campaigns');

/**
 * Every `*.yaml` of the directory, one definition per file. A bad file fails the start with its name and every bad
 * field: a review that silently does not run is the failure recertification exists to prevent.
 */
export const loadCampaignDefinitions = (dir: string): ReadonlyMap<string, CampaignDefinition> => {
  let names: string[];
  try {
    names = readdirSync(dir)
      .filter((name) => /\.ya?ml$/.test(name))
      .sort();
  } catch (error) {
    throw new CampaignDefinitionError(`APPROVAL_CAMPAIGNS_DIR: cannot read ${dir}: ${error instanceof Error ? error.message : String(error)}`);
  }
  return indexDefinitions(
    names.map((name) => {
      let raw: unknown;
      try {
        raw = parse(readFileSync(join(dir, name), 'utf8'));
      } catch (error) {
        throw new CampaignDefinitionError(`${name}: not valid YAML: ${error instanceof Error ? error.message : String(error)}`);
      }
      return { definition: parseCampaignDefinition(raw, name), source: name };
    }),
  );
};

export const loadCertificationConfig = (env: NodeJS.ProcessEnv = process.env): CertificationConfig => ({
  definitions: loadCampaignDefinitions(env['APPROVAL_CAMPAIGNS_DIR'] || DEFAULT_CAMPAIGNS_DIR),
});
