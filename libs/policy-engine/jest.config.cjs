const { projectConfig } = require('../../jest.preset.cjs');

// @marcbachmann/cel-js ships ESM only; jest's CommonJS runtime needs it transformed (plain node
// loads it through require(esm)). Any project that imports the engine needs the same pattern.
module.exports = projectConfig('policy-engine', __dirname, {
  transformIgnorePatterns: ['/node_modules/(?!@marcbachmann/cel-js/)'],
});
