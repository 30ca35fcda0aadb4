const { projectConfig } = require('../../jest.preset.cjs');

// @marcbachmann/cel-js (behind @grantline/policy-engine) and jose (behind @grantline/http-edge) ship ESM only;
// jest's CommonJS runtime needs them transformed (plain node loads them through require(esm)).
module.exports = projectConfig('policy', __dirname, {
  transformIgnorePatterns: ['/node_modules/(?!(@marcbachmann/cel-js|jose)/)'],
});
