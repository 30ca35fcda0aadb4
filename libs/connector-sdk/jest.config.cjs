const { projectConfig } = require('../../jest.preset.cjs');

module.exports = projectConfig('connector-sdk', __dirname);
