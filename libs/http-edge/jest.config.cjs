const { projectConfig } = require('../../jest.preset.cjs');

// jose ships as ES modules only; let swc compile it to CommonJS like our own sources.
module.exports = projectConfig('http-edge', __dirname, { transformIgnorePatterns: ['/node_modules/(?!jose/)'] });
