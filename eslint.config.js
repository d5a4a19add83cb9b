// ESLint: typescript-eslint's strict and stylistic type-checked sets over every file of ours that
// runs (src, test, bench, the build and release scripts, the vitest configs). Type information comes
// from tsconfig.json through the project service, so linting needs no build (dist/ is never read).
// Formatting is Prettier's alone: eslint-config-prettier, last, turns off what would fight it.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig(
  { ignores: ['dist/', '.tmp/', 'node_modules/'] },
  js.configs.recommended,
  tseslint.configs.strictTypeChecked,
  tseslint.configs.stylisticTypeChecked,
  {
    languageOptions: {
      globals: globals.node,
      parserOptions: {
        // The JavaScript files are outside tsconfig.json (it has no allowJs): they are typed in the
        // project service's default project, with tsconfig.json's options.
        projectService: {
          allowDefaultProject: ['*.js', '*.mjs', 'bench/*.mjs', 'bench/lib/*.mjs', 'test/*.mjs', 'docker/guides/*.js'],
          defaultProject: 'tsconfig.json',
          maximumDefaultProjectFileMatchCount_THIS_WILL_SLOW_DOWN_LINTING: 32,
        },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // Pids, exit codes, counts and milliseconds are numbers, and messages are built from them.
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      // `() => f()` as a callback that returns nothing: the fix is a block, three lines under Prettier.
      '@typescript-eslint/no-confusing-void-expression': ['error', { ignoreArrowShorthand: true }],
      // Two thrown values that are not failures: UsageError (src/core is lowered to ES5 for Duktape,
      // where a subclass of Error loses its prototype; parseCli catches it) and the Node host's
      // EarlyExit (an exit code carried to the entry, which catches it; no stack wanted).
      '@typescript-eslint/only-throw-error': [
        'error',
        {
          allow: [
            { from: 'file', name: 'UsageError' },
            { from: 'file', name: 'EarlyExit' },
          ],
        },
      ],
      // `const { a: _, ...rest } = o` is how a key is left out of a copy.
      '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true }],
      // For a string, '' is the empty answer (no stderr, no git date): `||` falling back on it is meant.
      '@typescript-eslint/prefer-nullish-coalescing': ['error', { ignorePrimitives: { string: true } }],
      // Control characters are what log.ts escapes and the fuzz test hunts: every such range is meant.
      'no-control-regex': 'off',
      // The core keys records by pid (Duktape has Map only as a slower polyfill) and `delete` is how a
      // pid leaves; `delete process.env[k]` is the only way to unset a variable.
      '@typescript-eslint/no-dynamic-delete': 'off',
    },
  },
  {
    // JavaScript has no annotations: every parameter is `any`, so the no-unsafe rules and the
    // operand rules would flag each use of one. The other type-aware rules (floating promises,
    // misused promises, unnecessary conditions, ...) stay on.
    files: ['**/*.js', '**/*.mjs'],
    rules: {
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/restrict-template-expressions': 'off',
      '@typescript-eslint/restrict-plus-operands': 'off',
    },
  },
  {
    // src/core and src/static run on Duktape as ES5 lowered with downlevelIteration: a for-of
    // there is an iterator object with closures per loop, garbage on hot paths; indexed loops are meant.
    files: ['src/core/**/*.ts', 'src/static/**/*.ts'],
    rules: { '@typescript-eslint/prefer-for-of': 'off' },
  },
  {
    // In a test, `x!` on what the test just produced is an assertion: if it is undefined the next
    // line throws and the test fails. expect(x).toBeDefined() would not narrow the type.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      // vitest types its asymmetric matchers (expect.any, expect.stringMatching, ...) as `any` so
      // that they fit any field; putting one in an expected object is how they are used.
      '@typescript-eslint/no-unsafe-assignment': 'off',
    },
  },
  prettier,
);
