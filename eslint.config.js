// Lint, including the import graph of docs/ARCHITECTURE.md: layers are visible in the path and
// a wrong-way import fails `npm run check`, not review (test/lint/layers.test.ts keeps it so).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';

/**
 * The import graph inside core/: each folder and the folders of core/ it may import (its own
 * files always). Engines never import the use cases (app) or the transports (api, cli); store
 * and common sit at the bottom. Every folder of core/ must have a row (the layers test checks).
 */
export const CORE_LAYERS = {
  common: [],
  store: ['common'],
  library: ['store', 'common'],
  ml: ['store', 'common'],
  curate: ['library', 'store', 'common'],
  label: ['store', 'common'],
  export: ['curate', 'label', 'store', 'common'],
  interop: ['ml', 'library', 'store', 'common'],
  app: ['library', 'ml', 'curate', 'label', 'export', 'interop', 'store', 'common'],
  api: ['app', 'library', 'ml', 'curate', 'label', 'export', 'interop', 'store', 'common'],
  cli: ['api', 'app', 'library', 'ml', 'curate', 'label', 'export', 'interop', 'store', 'common'],
};

const coreNeverImports = {
  paths: [{ name: 'electron', message: 'core/ never imports Electron (docs/ARCHITECTURE.md).' }],
  patterns: [
    { group: ['**/electron/**', '**/renderer/**'], message: 'core/ never imports electron/ or renderer/.' },
  ],
};

/** no-restricted-imports (static imports) and no-restricted-syntax (import()) for one folder of core/. */
function layerRules(folder) {
  const allowed = CORE_LAYERS[folder];
  const forbidden = Object.keys(CORE_LAYERS).filter((other) => other !== folder && !allowed.includes(other));
  const message = `core/${folder}/ may import only ${allowed.length ? allowed.map((f) => `core/${f}/`).join(', ') : 'nothing else of core/'} (the layer graph in docs/ARCHITECTURE.md).`;
  // A relative import climbing out of core/<folder>/ into a forbidden sibling: ../x/…, ../../x/…
  const target = `(${forbidden.join('|')})`;
  return {
    'no-restricted-imports': ['error', {
      ...coreNeverImports,
      patterns: [...coreNeverImports.patterns, ...(forbidden.length ? [{ regex: `^(\\.\\./)+${target}(/|$)`, message }] : [])],
    }],
    'no-restricted-syntax': ['error', ...(forbidden.length
      // esquery regexes cannot hold '/', so \W stands for it.
      ? [{ selector: `ImportExpression[source.value=/^(\\.\\.\\W)+${target}(\\W|$)/]`, message }]
      : [])],
  };
}

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'dist-electron/**', 'release/**', '.gpu-kit/**', 'renderer/dist/**', 'test-artifacts/**', '.looktwice-tmp/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...svelte.configs['flat/recommended'],
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  // Inside core/, imports go downward only, for every pair of folders (CORE_LAYERS).
  ...Object.keys(CORE_LAYERS).map((folder) => ({ files: [`core/${folder}/**/*.ts`], rules: layerRules(folder) })),
  {
    files: ['renderer/**/*.ts', 'renderer/**/*.svelte', 'renderer/**/*.svelte.ts'],
    languageOptions: { globals: { ...globals.browser }, parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.svelte'] } },
    rules: {
      'no-restricted-imports': ['error', {
        paths: [{ name: 'electron', message: 'The renderer talks only to the API contract.' }],
        patterns: [
          // A regex, because a gitignore-style negation cannot re-include a file under an excluded folder.
          { regex: '(^|/)core/(?!api/contract(\\.ts)?$)', message: 'renderer/ imports only types from core/api/contract.ts.' },
          { group: ['**/electron/**'], message: 'renderer/ never imports electron/.' },
          { group: ['node:*'], message: 'renderer/ runs in the browser.' },
        ],
      }],
      // …and from the contract only types (erased at build time).
      '@typescript-eslint/no-restricted-imports': ['error', {
        patterns: [{ regex: '(^|/)core/api/contract(\\.ts)?$', allowTypeImports: true, message: 'renderer/ imports only types from core/api/contract.ts (use `import type`).' }],
      }],
    },
  },
  {
    files: ['core/**/*.ts', 'test/**/*.ts', 'bench/**/*.ts', 'build/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/renderer/**', '!**/renderer/dist/**'], message: 'Nothing imports renderer/.' }] }],
    },
    ignores: ['core/**/*.ts'],
  },
);
