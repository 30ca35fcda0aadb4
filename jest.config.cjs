// One jest run for the whole repository. Infrastructure (Kafka, MongoDB-wire store, target
// systems) is brought up once in globalSetup; every spec isolates itself (own topics,
// groups, database). Unit specs never touch it.
const { swcTransform } = require('./jest.preset.cjs');

module.exports = {
  projects: ['<rootDir>/libs/*/jest.config.cjs', '<rootDir>/apps/*/jest.config.cjs', '<rootDir>/tools/*/jest.config.cjs'],
  transform: { '^.+\\.(t|j)s$': swcTransform },
  globalSetup: '<rootDir>/libs/testing/src/global-setup.ts',
  globalTeardown: '<rootDir>/libs/testing/src/global-teardown.ts',
  testTimeout: 60000,
  maxWorkers: 2,
};
