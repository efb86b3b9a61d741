// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

/** Browser code must never reach into Node-only code: the wall between the two tsconfigs. */
const browserOnly = {
  patterns: [
    { group: ['**/server/**', '**/server'], message: 'Browser code cannot import server code (src/server is Node-only).' },
    { group: ['node:*'], message: 'Browser code cannot import Node built-ins.' },
  ],
};

export default tseslint.config(
  { ignores: ['dist/', '.astro/', 'node_modules/', 'test-results/', 'playwright-report/', '.irlab/', 'tests/fixtures/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.{ts,tsx,js,mjs}'],
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: ['src/islands/**', 'src/stores/**', 'src/lib/**'],
    ignores: ['**/*.test.ts'],
    languageOptions: { globals: { ...globals.browser } },
    rules: { 'no-restricted-imports': ['error', browserOnly] },
  },
);
