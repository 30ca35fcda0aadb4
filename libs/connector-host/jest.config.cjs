const { projectConfig } = require('../../jest.preset.cjs');

module.exports = projectConfig('connector-host', __dirname);
