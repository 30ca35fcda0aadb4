const { projectConfig } = require('../../jest.preset.cjs');

module.exports = projectConfig('notifier', __dirname);
