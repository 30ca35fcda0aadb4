// eslint-disable-next-line @typescript-eslint/no-require-imports -- a CommonJS config file that jest loads directly
const { projectConfig } = require('../../jest.preset.cjs');

module.exports = projectConfig('contracts', __dirname);
