const { projectConfig } = require('../../jest.preset.cjs');

// Each spec file starts the platform as child processes; its hooks and tests pass their own (longer) timeouts
// because jest reads testTimeout from the root config only.
// jose (dev tokens) ships ES modules only: let swc compile it to CommonJS for jest.
module.exports = projectConfig('e2e', __dirname, { transformIgnorePatterns: ['/node_modules/(?!jose/)'] });
