import { runExcludesIntegrationSpecs } from './infra-need';

describe('runExcludesIntegrationSpecs', () => {
  it('sees the unit-only run of scripts/grantline test:unit', () => {
    expect(runExcludesIntegrationSpecs({ testPathIgnorePatterns: ['/node_modules/', '\\.int\\.spec\\.ts$', '/apps/e2e/'] })).toBe(true);
  });

  it('keeps infrastructure for ordinary runs', () => {
    expect(runExcludesIntegrationSpecs({ testPathIgnorePatterns: ['/node_modules/'] })).toBe(false);
    expect(runExcludesIntegrationSpecs({})).toBe(false);
    expect(runExcludesIntegrationSpecs(undefined)).toBe(false);
  });

  it('ignores patterns that are not valid regular expressions', () => {
    expect(runExcludesIntegrationSpecs({ testPathIgnorePatterns: ['(['] })).toBe(false);
  });
});
