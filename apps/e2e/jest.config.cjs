const { projectConfig } = require('../../jest.preset.cjs');

// Each spec file starts the whole platform as child processes: minutes, not seconds.
// jose (dev tokens) ships ES modules only: let swc compile it to CommonJS for jest.
module.exports = projectConfig('e2e', __dirname, { testTimeout: 180000, transformIgnorePatterns: ['/node_modules/(?!jose/)'] });
