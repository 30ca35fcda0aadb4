const { projectConfig } = require('../../jest.preset.cjs');

module.exports = projectConfig('connector-postgres-app', __dirname);
