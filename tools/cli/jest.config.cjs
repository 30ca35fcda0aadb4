const { projectConfig } = require('../../jest.preset.cjs');

// @marcbachmann/cel-js (behind @grantline/policy-engine, for `grantline policy`) and jose (behind the service kit a
// topics spec starts a service with) ship ESM only; jest's CommonJS runtime needs them transformed (plain node loads
// them through require(esm)).
module.exports = projectConfig('tools-cli', __dirname, {
  transformIgnorePatterns: ['/node_modules/(?!(?:@marcbachmann/cel-js|jose)/)'],
});
