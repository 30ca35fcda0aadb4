const { projectConfig } = require('../../jest.preset.cjs');

module.exports = projectConfig('connector-scim', __dirname);
