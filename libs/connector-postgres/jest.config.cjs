// CommonJS by necessity (jest loads .cjs configs with require); the root eslint config does not yet exempt *.cjs.
/* eslint-disable @typescript-eslint/no-require-imports */
const { projectConfig } = require('../../jest.preset.cjs');

module.exports = projectConfig('connector-postgres', __dirname);
