const { projectConfig } = require('../../jest.preset.cjs');

module.exports = projectConfig('connector-ldap', __dirname);
