import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_CAMPAIGNS_DIR, loadCampaignDefinitions } from './certification.config';

const dirWith = (files: Record<string, string>): string => {
  const dir = mkdtempSync(join(tmpdir(), 'campaigns-'));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return dir;
};

describe('campaign definitions as code', () => {
  it("the repository's catalog/campaigns load, every trigger covered", () => {
    const definitions = loadCampaignDefinitions(DEFAULT_CAMPAIGNS_DIR);
    expect([...definitions.keys()].sort()).toEqual(['drift', 'grant-recertification', 'mover', 'nhi-owner-change', 'quarterly-privileged', 'sod-violation']);
    expect(new Set([...definitions.values()].flatMap((definition) => definition.triggers))).toEqual(
      new Set(['schedule', 'on_demand', 'mover', 'owner_change', 'drift', 'sod_violation', 'grant_recertification']),
    );
  });

  it('a bad file fails the start naming the file and the field', () => {
    const dir = dirWith({ 'bad.yaml': 'definitionId: x\nname: X\ntriggers: [on_demand]\nreviewer: { kind: boss }\ndeadline: P1D\nonNoAnswer: revoke\n' });
    expect(() => loadCampaignDefinitions(dir)).toThrow(/bad\.yaml: invalid campaign definition: reviewer\.kind/);
  });

  it('two files with one id fail naming both', () => {
    const body = 'definitionId: x\nname: X\ntriggers: [on_demand]\nreviewer: { kind: manager }\ndeadline: P1D\nonNoAnswer: revoke\n';
    expect(() => loadCampaignDefinitions(dirWith({ 'a.yaml': body, 'b.yaml': body }))).toThrow(/b\.yaml: definitionId "x" is already defined in a\.yaml/);
  });

  it('a directory that cannot be read names the variable', () => {
    expect(() => loadCampaignDefinitions('/nonexistent/campaigns')).toThrow(/APPROVAL_CAMPAIGNS_DIR/);
  });
});
