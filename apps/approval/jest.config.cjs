const { projectConfig } = require('../../jest.preset.cjs');

// jose (JWT verification) ships ES modules only: let swc compile it to CommonJS for jest.
module.exports = projectConfig('approval', __dirname, { transformIgnorePatterns: ['/node_modules/(?!jose/)'] });
