const { projectConfig } = require('../../jest.preset.cjs');

module.exports = projectConfig('connector-credentials-app', __dirname);
