const { projectConfig } = require('../../jest.preset.cjs');

module.exports = projectConfig('asyncapi', __dirname);
