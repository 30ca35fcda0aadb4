const { projectConfig } = require('../../jest.preset.cjs');

module.exports = projectConfig('policy', __dirname);
