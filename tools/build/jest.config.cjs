const { projectConfig } = require('../../jest.preset.cjs');

module.exports = projectConfig('tools-build', __dirname);
