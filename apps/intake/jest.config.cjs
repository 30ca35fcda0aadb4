const { projectConfig } = require('../../jest.preset.cjs');

module.exports = projectConfig('intake', __dirname);
