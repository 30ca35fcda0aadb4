const { projectConfig } = require('../../jest.preset.cjs');

module.exports = projectConfig('policy-engine', __dirname);
