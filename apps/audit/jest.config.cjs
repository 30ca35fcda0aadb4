const { projectConfig } = require('../../jest.preset.cjs');

module.exports = projectConfig('audit', __dirname);
