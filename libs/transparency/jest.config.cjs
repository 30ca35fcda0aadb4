const { projectConfig } = require('../../jest.preset.cjs');

module.exports = projectConfig('transparency', __dirname);
