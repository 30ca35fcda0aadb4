// Boundaries live here, not in a wiki: every project carries scope:/type: tags and
// @nx/enforce-module-boundaries fails the lint (zero warnings allowed) when they are crossed.
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

const nest = ['@nestjs/*', 'reflect-metadata'];
// Every Kafka client the project has (kafkajs; @platformatic/kafka, a devDependency measured by bench:kafka-clients,
// docs/adr/0034): production code imports one in libs/messaging only (the testing lib, tools and bench may too).
const kafkaClients = ['kafkajs', '@platformatic/kafka', '@confluentinc/kafka-javascript'];

// Pure domain code inside the apps (apps/*/src/domain): the type:domain tag reaches libs only, so a file glob
// carries the same rule there. Time, ids and lookups are injected; the app's non-domain code passes them in.
const impureForDomain = [
  ...nest,
  '@grantline/messaging',
  '@grantline/messaging-nest',
  '@grantline/service-kit',
  '@grantline/http-edge',
  ...kafkaClients,
  'mongoose',
  '@nestjs/mongoose',
  'pg',
  'express',
];
/** A package name, or `scope/*`, and anything below it (`pg` and `pg/lib`, never `./pg` or `pg-format`). */
const packagesRegex = (names) => `^(?:${names.map((name) => name.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace('*', '[^/]+')).join('|')})(?:/.*)?$`;
const domainPackages = {
  regex: packagesRegex(impureForDomain),
  message:
    "Domain code is pure: no framework, transport, database or HTTP client. Time, ids (e.g. deterministicEventId) and lookups are injected through the context/options object by the app's non-domain code.",
};
const domainFolder = {
  regex: '^\\.\\./',
  message: 'Domain code does not reach into the rest of its app: what it needs from there is injected by the non-domain code. (Specs may use ../testing.)',
};

/** Module boundaries; spec files may additionally use the testing lib (type:testing). */
function boundaries({ specs }) {
  const testing = specs ? ['type:testing'] : [];
  // No lib or tool depends on a connector, not even transitively; for apps see the type:connector constraint.
  const noConnectors = ['type:connector'];
  return {
    enforceBuildableLibDependency: false,
    allow: [],
    depConstraints: [
      // contracts: the shared language, zod only.
      { sourceTag: 'type:contracts', onlyDependOnLibsWithTags: [...testing], notDependOnLibsWithTags: noConnectors, allowedExternalImports: ['zod'] },
      // pure domain logic: plain TypeScript over contracts, no framework, no I/O clients.
      {
        sourceTag: 'type:domain',
        onlyDependOnLibsWithTags: ['type:contracts', 'type:domain', ...testing],
        notDependOnLibsWithTags: noConnectors,
        bannedExternalImports: [...nest, ...kafkaClients, 'mongoose', 'pg', 'express'],
      },
      // the transport: the only place a Kafka client may be imported; framework-free.
      {
        sourceTag: 'type:messaging',
        onlyDependOnLibsWithTags: ['type:contracts', ...testing],
        notDependOnLibsWithTags: noConnectors,
        bannedExternalImports: [...nest, 'mongoose'],
      },
      // NestJS bindings and service plumbing.
      {
        sourceTag: 'type:platform',
        onlyDependOnLibsWithTags: ['type:contracts', 'type:messaging', 'type:platform', 'type:domain', ...testing],
        notDependOnLibsWithTags: noConnectors,
        bannedExternalImports: kafkaClients,
      },
      // the HTTP edge (problem+json, bearer auth): Nest and jose, no event log or database clients.
      { sourceTag: 'layer:http-edge', onlyDependOnLibsWithTags: [...testing], bannedExternalImports: [...kafkaClients, 'mongoose', '@nestjs/mongoose', 'pg'] },
      // connector SDK: framework-free contract for connector teams.
      {
        sourceTag: 'type:sdk',
        onlyDependOnLibsWithTags: ['type:contracts', 'type:messaging', 'type:domain', 'type:sdk', ...testing],
        notDependOnLibsWithTags: noConnectors,
        bannedExternalImports: [...nest, ...kafkaClients, 'mongoose'],
      },
      // connectors (one app or lib per target system, behind the SDK): the SDK and the shared plumbing only. No
      // project imports a connector app (Nx refuses any import of an app) and the libs, tools and contracts above
      // and below refuse a connector. The connector lib also carries type:sdk (it implements the SDK), which is how
      // its connector app reaches it; Nx cannot say "apps other than connectors", so another type:app could still
      // import a connector lib: review catches that one.
      {
        sourceTag: 'type:connector',
        onlyDependOnLibsWithTags: ['type:contracts', 'type:messaging', 'type:platform', 'type:sdk', 'type:connector-host', ...testing],
        bannedExternalImports: kafkaClients,
      },
      // the connector host (libs/connector-host): the generic connector service, Nest plumbing over the SDK. Connector
      // apps run a connector lib in it; the connector libs themselves never need it, and their type:sdk tag keeps them
      // from importing it (the SDK is framework-free). It hosts any connector, so it depends on none.
      {
        sourceTag: 'type:connector-host',
        onlyDependOnLibsWithTags: ['type:contracts', 'type:messaging', 'type:platform', 'type:sdk', ...testing],
        notDependOnLibsWithTags: noConnectors,
        bannedExternalImports: kafkaClients,
      },
      {
        sourceTag: 'type:testing',
        onlyDependOnLibsWithTags: ['type:contracts', 'type:messaging', 'type:platform', 'type:domain', 'type:sdk', 'type:testing'],
        notDependOnLibsWithTags: noConnectors,
      },
      // tools/* and bench: developer commands over the libs' public APIs (the test harness included), never an app.
      {
        sourceTag: 'type:tool',
        onlyDependOnLibsWithTags: ['type:contracts', 'type:messaging', 'type:platform', 'type:domain', 'type:sdk', 'type:testing'],
        notDependOnLibsWithTags: noConnectors,
      },
      // apps depend on libs, never on other apps, and never on a Kafka client directly.
      {
        sourceTag: 'type:app',
        onlyDependOnLibsWithTags: ['type:contracts', 'type:messaging', 'type:platform', 'type:domain', 'type:sdk', 'type:connector-host', ...testing],
        bannedExternalImports: kafkaClients,
      },
      // scopes: a service sees shared libs and its own scope only.
      { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared', 'scope:policy', 'scope:provisioning'] },
      { sourceTag: 'scope:intake', onlyDependOnLibsWithTags: ['scope:shared', 'scope:intake', ...testing] },
      { sourceTag: 'scope:policy', onlyDependOnLibsWithTags: ['scope:shared', 'scope:policy', ...testing] },
      { sourceTag: 'scope:approval', onlyDependOnLibsWithTags: ['scope:shared', 'scope:approval', ...testing] },
      { sourceTag: 'scope:provisioning', onlyDependOnLibsWithTags: ['scope:shared', 'scope:provisioning', ...testing] },
      { sourceTag: 'scope:scheduler', onlyDependOnLibsWithTags: ['scope:shared', 'scope:scheduler', ...testing] },
      { sourceTag: 'scope:audit', onlyDependOnLibsWithTags: ['scope:shared', 'scope:audit', ...testing] },
      { sourceTag: 'scope:notifier', onlyDependOnLibsWithTags: ['scope:shared', 'scope:notifier', ...testing] },
      { sourceTag: 'scope:gateway', onlyDependOnLibsWithTags: ['scope:shared', 'scope:gateway', ...testing] },
    ],
  };
}

export default [
  { ignores: ['**/node_modules/**', '**/dist/**', '.cache/**', '.grantline/**', '.nx/**', 'coverage/**'] },
  ...nx.configs['flat/base'],
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'separate-type-imports', disallowTypeAnnotations: false }],
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@nx/enforce-module-boundaries': ['error', boundaries({ specs: false })],
    },
  },
  {
    // test files may use the testing lib and jest globals freely.
    files: ['**/*.spec.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@nx/enforce-module-boundaries': ['error', boundaries({ specs: true })],
    },
  },
  {
    // apps/*/src/domain: pure, whatever the app around it imports (specs included; they may use ../testing).
    files: ['apps/*/src/domain/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [domainPackages] }] },
  },
  {
    files: ['apps/*/src/domain/*.ts'],
    ignores: ['**/*.spec.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [domainPackages, domainFolder] }] },
  },
  {
    // build/test configuration sits outside the project graph's import rules.
    files: ['**/*.cjs'],
    rules: { '@nx/enforce-module-boundaries': 'off', '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    ...tseslint.configs.disableTypeChecked,
  },
];
