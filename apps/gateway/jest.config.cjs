const { projectConfig, swcTransform } = require('../../jest.preset.cjs');

// jose, http-proxy-middleware and its httpxy (.mjs) and is-plain-obj ship as ES modules only: swc compiles them to
// CommonJS like our own sources.
module.exports = projectConfig('gateway', __dirname, {
  transform: { '^.+\\.(t|j)s$': swcTransform, '^.+\\.mjs$': swcTransform },
  moduleFileExtensions: ['ts', 'js', 'mjs', 'json'],
  transformIgnorePatterns: ['/node_modules/(?!(jose|http-proxy-middleware|httpxy|is-plain-obj)/)'],
});
