// Lint, including the import-direction rule of STYLE.md: layers are visible in the path and a
// wrong-way import fails `npm run check`, not review.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';

const noElectronOrDom = {
  paths: [{ name: 'electron', message: 'core/ never imports Electron (see STYLE.md).' }],
  patterns: [
    { group: ['**/electron/**', '**/renderer/**'], message: 'core/ never imports electron/ or renderer/.' },
  ],
};

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
  {
    files: ['core/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', noElectronOrDom] },
  },
  {
    // Inside core/, imports go downward: api → curate/ml/library/export → store. Never back up.
    files: ['core/store/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        ...noElectronOrDom,
        patterns: [...noElectronOrDom.patterns, { group: ['**/library/**', '**/ml/**', '**/curate/**', '**/export/**', '**/api/**', '**/cli/**', '**/label/**'], message: 'core/store/ is the bottom layer: it imports nothing above it.' }],
      }],
    },
  },
  {
    files: ['core/library/**/*.ts', 'core/ml/**/*.ts', 'core/curate/**/*.ts', 'core/export/**/*.ts', 'core/label/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        ...noElectronOrDom,
        patterns: [...noElectronOrDom.patterns, { group: ['**/api/**', '**/cli/**'], message: 'Engine layers never import the API or CLI above them.' }],
      }],
    },
  },
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
