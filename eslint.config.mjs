// ESLint flat config: typescript-eslint's recommended rules; prettier owns formatting.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';
import boundaries from './tools/lint/module-boundaries.cjs';

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      '**/dist/**',
      'coverage/**',
      '.nx/**',
      '.stack/**',
      'bench-results/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      'no-console': 'error',
    },
  },
  {
    // Domain -> infrastructure, anything -> app, relative paths into another project: see
    // tools/lint/module-boundaries.cjs and docs/architecture.md.
    files: ['{apps,packages,tools}/**/*.{ts,mjs}'],
    plugins: { boundaries },
    rules: { 'boundaries/module-boundaries': 'error' },
  },
  {
    // CLIs, benchmarks and the test harness print to the terminal on purpose.
    files: ['tools/**/*.ts', 'tools/**/*.mjs', '**/*.spec.ts'],
    rules: { 'no-console': 'off' },
  },
  {
    files: ['**/*.mjs', '**/*.cjs', '**/*.js'],
    languageOptions: { globals: { ...globals.node } },
  },
  {
    files: ['**/*.cjs'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  prettier,
);
