const { projectConfig } = require('../../jest.preset.cjs');

module.exports = projectConfig('scheduler', __dirname);
