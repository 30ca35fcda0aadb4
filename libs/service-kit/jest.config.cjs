const { projectConfig } = require('../../jest.preset.cjs');

module.exports = projectConfig('service-kit', __dirname);
