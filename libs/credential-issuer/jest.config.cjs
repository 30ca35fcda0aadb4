const { projectConfig } = require('../../jest.preset.cjs');

// @peculiar/x509 resolves its algorithms through tsyringe, which needs the Reflect metadata polyfill loaded first: a
// Nest host has it; the lib's own specs load it here.
module.exports = projectConfig('credential-issuer', __dirname, { setupFiles: ['reflect-metadata'] });
