// @ts-check
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'data/', 'bench/results/', 'test-output/', '.security-scan/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2023, globals: globals.node },
    rules: {
      // `const { secret: _s, ...rest } = obj` is how a key is left out of a copy; `_`-prefixed
      // parameters are required by a signature (stream transforms, Koa handlers) but not read.
      '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true, argsIgnorePattern: '^_' }],
    },
  },
  {
    // CommonJS node scripts (bench, build helpers): require() is their only import.
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // These files refuse or strip control characters (NUL, C0, ANSI escapes) on purpose: matching
    // them in a regular expression is their job, so the rule is off for them only.
    files: [
      'src/modules/exotel/fields.ts',
      'src/platform/audit/record.ts',
      'src/platform/security/anomaly/xss.ts',
      'src/platform/validation/formats.ts',
      'test/unit/scanner-parse.test.ts',
    ],
    rules: { 'no-control-regex': 'off' },
  },
  {
    // chai's property assertions (`expect(x).to.exist`, `.to.be.empty`) are expressions by design.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-unused-expressions': 'off' },
  },
);
