const { projectConfig } = require('../../jest.preset.cjs');

// @marcbachmann/cel-js (behind @grantline/policy-engine, for `grantline policy`) ships ESM only; jest's CommonJS
// runtime needs it transformed (plain node loads it through require(esm)).
module.exports = projectConfig('tools-cli', __dirname, {
  transformIgnorePatterns: ['/node_modules/(?!@marcbachmann/cel-js/)'],
});
