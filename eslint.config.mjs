// Boundaries live here, not in a wiki: every project carries scope:/type: tags and
// @nx/enforce-module-boundaries fails the lint (zero warnings allowed) when they are crossed.
import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

const nest = ['@nestjs/*', 'reflect-metadata'];

/** Module boundaries; spec files may additionally use the testing lib (type:testing). */
function boundaries({ specs }) {
  const testing = specs ? ['type:testing'] : [];
  return {
    enforceBuildableLibDependency: false,
    allow: [],
    depConstraints: [
      // contracts: the shared language, zod only.
      { sourceTag: 'type:contracts', onlyDependOnLibsWithTags: [...testing], allowedExternalImports: ['zod'] },
      // pure domain logic: plain TypeScript over contracts, no framework, no I/O clients.
      {
        sourceTag: 'type:domain',
        onlyDependOnLibsWithTags: ['type:contracts', 'type:domain', ...testing],
        bannedExternalImports: [...nest, 'kafkajs', 'mongoose', 'pg', 'express'],
      },
      // the transport: the only place kafkajs may be imported; framework-free.
      {
        sourceTag: 'type:messaging',
        onlyDependOnLibsWithTags: ['type:contracts', ...testing],
        bannedExternalImports: [...nest, 'mongoose'],
      },
      // NestJS bindings and service plumbing.
      {
        sourceTag: 'type:platform',
        onlyDependOnLibsWithTags: ['type:contracts', 'type:messaging', 'type:platform', ...testing],
        bannedExternalImports: ['kafkajs'],
      },
      // the HTTP edge (problem+json, bearer auth): Nest and jose, no event log or database clients.
      { sourceTag: 'layer:http-edge', onlyDependOnLibsWithTags: [...testing], bannedExternalImports: ['kafkajs', 'mongoose', '@nestjs/mongoose', 'pg'] },
      // connector SDK: framework-free contract for connector teams.
      {
        sourceTag: 'type:sdk',
        onlyDependOnLibsWithTags: ['type:contracts', 'type:messaging', 'type:sdk', ...testing],
        bannedExternalImports: [...nest, 'kafkajs', 'mongoose'],
      },
      {
        sourceTag: 'type:testing',
        onlyDependOnLibsWithTags: ['type:contracts', 'type:messaging', 'type:platform', 'type:domain', 'type:sdk', 'type:testing'],
      },
      // apps depend on libs, never on other apps, and never on kafkajs directly.
      {
        sourceTag: 'type:app',
        onlyDependOnLibsWithTags: ['type:contracts', 'type:messaging', 'type:platform', 'type:domain', 'type:sdk', ...testing],
        bannedExternalImports: ['kafkajs'],
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
    // build/test configuration sits outside the project graph's import rules.
    files: ['**/*.cjs'],
    rules: { '@nx/enforce-module-boundaries': 'off', '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    ...tseslint.configs.disableTypeChecked,
  },
];
