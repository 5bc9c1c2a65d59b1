/**
 * ESLint: typescript-eslint's type-checked rules everywhere, and in src/ the size limits the code
 * is held to (functions of at most 80 lines, lines of at most 120 characters). Formatting is
 * Prettier's job (`npm run format`); the dependency direction is dependency-cruiser's
 * (.dependency-cruiser.cjs). `npm run lint` runs all three.
 */
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  // test/types/fixtures/ holds code that must fail to compile (test/types/types.test.ts checks it);
  // test/package/apps/ holds apps compiled against the packed package, outside the repository.
  {
    ignores: [
      'dist/',
      'docs/',
      'coverage/',
      'node_modules/',
      'bench/profiles/',
      'test/types/fixtures/',
      'test/package/apps/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: {
          allowDefaultProject: ['*.js', '*.cjs', 'bin/*.js', 'scripts/*.mjs', 'test/setup/*.js'],
        },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
  },
  { files: ['**/*.js', '**/*.cjs', '**/*.mjs'], ...tseslint.configs.disableTypeChecked },
  // The plain JavaScript files (bin/, scripts/*.mjs, the Jest and dependency-cruiser configs, Jest's
  // reporter) run in Node.
  { files: ['**/*.js', '**/*.cjs', '**/*.mjs'], languageOptions: { globals: { ...globals.node } } },
  {
    files: ['src/**/*.ts'],
    rules: {
      'max-lines-per-function': ['error', { max: 80, skipBlankLines: false, skipComments: false }],
      'max-len': ['error', { code: 120 }],
    },
  },
);
