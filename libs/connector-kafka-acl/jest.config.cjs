const { projectConfig } = require('../../jest.preset.cjs');

module.exports = projectConfig('connector-kafka-acl', __dirname);
