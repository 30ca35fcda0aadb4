const { projectConfig } = require('../../jest.preset.cjs');

module.exports = projectConfig('messaging-nest', __dirname);
