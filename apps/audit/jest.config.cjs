const { projectConfig } = require('../../jest.preset.cjs');

// The HTTP edge (problem+json) loads jose, which ships ES modules only: let swc compile it to CommonJS for jest.
module.exports = projectConfig('audit', __dirname, { transformIgnorePatterns: ['/node_modules/(?!jose/)'] });
