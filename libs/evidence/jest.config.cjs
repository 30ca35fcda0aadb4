const { projectConfig } = require('../../jest.preset.cjs');

module.exports = projectConfig('evidence', __dirname);
