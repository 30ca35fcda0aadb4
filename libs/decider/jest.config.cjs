const { projectConfig } = require('../../jest.preset.cjs');

module.exports = projectConfig('decider', __dirname);
