const { projectConfig } = require('../../jest.preset.cjs');

module.exports = projectConfig('connector-postgres', __dirname);
