const { projectConfig } = require('../../jest.preset.cjs');

// Each spec file starts the platform as child processes; its hooks and tests pass their own (longer) timeouts
// because jest reads testTimeout from the root config only.
// jose (dev tokens) and @marcbachmann/cel-js (behind @grantline/policy-engine: the harness reproduces every recorded
// decision at close) ship ES modules only: let swc compile them to CommonJS for jest.
module.exports = projectConfig('e2e', __dirname, { transformIgnorePatterns: ['/node_modules/(?!(?:jose|@marcbachmann/cel-js)/)'] });
