const { projectConfig } = require('../../jest.preset.cjs');

module.exports = projectConfig('provisioning', __dirname);
