// Shared jest settings for every project: swc with legacy decorators + metadata (NestJS DI
// needs emitted metadata) and module aliases taken from tsconfig.base.json's paths.
const { readFileSync } = require('node:fs');
const { join } = require('node:path');

const swcTransform = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2023',
      keepClassNames: true,
    },
    module: { type: 'commonjs' },
    sourceMaps: 'inline',
  },
];

const { compilerOptions } = JSON.parse(readFileSync(join(__dirname, 'tsconfig.base.json'), 'utf8'));
const moduleNameMapper = Object.fromEntries(Object.entries(compilerOptions.paths).map(([alias, [target]]) => [`^${alias}$`, join(__dirname, target)]));

function projectConfig(displayName, rootDir, overrides = {}) {
  return {
    displayName,
    rootDir,
    testEnvironment: 'node',
    transform: { '^.+\\.(t|j)s$': swcTransform },
    moduleFileExtensions: ['ts', 'js', 'json'],
    moduleNameMapper,
    testMatch: ['<rootDir>/**/*.spec.ts'],
    // jose ships as ES modules only and every service's kit authenticates with it: swc compiles it like our sources.
    transformIgnorePatterns: ['/node_modules/(?!jose/)'],
    ...overrides,
  };
}

module.exports = { projectConfig, swcTransform, moduleNameMapper };
