const { projectConfig } = require('../../jest.preset.cjs');

module.exports = projectConfig('approval', __dirname);
