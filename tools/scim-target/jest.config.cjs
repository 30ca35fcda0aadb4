const { projectConfig } = require('../../jest.preset.cjs');

module.exports = projectConfig('tools-scim-target', __dirname);
