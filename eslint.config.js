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
  // test/types/fixtures/ holds code that must fail to compile; test/types/types.test.ts checks it.
  { ignores: ['dist/', 'docs/', 'coverage/', 'node_modules/', 'bench/profiles/', 'test/types/fixtures/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['*.js', '*.cjs', 'bin/*.js', 'test/setup/*.js'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
  },
  { files: ['**/*.js', '**/*.cjs'], ...tseslint.configs.disableTypeChecked },
  // The plain JavaScript files (bin/, the Jest and dependency-cruiser configs, Jest's reporter) run in Node.
  { files: ['**/*.js', '**/*.cjs'], languageOptions: { globals: { ...globals.node } } },
  {
    files: ['src/**/*.ts'],
    rules: {
      'max-lines-per-function': ['error', { max: 80, skipBlankLines: false, skipComments: false }],
      'max-len': ['error', { code: 120 }],
    },
  },
);
