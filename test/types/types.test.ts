/**
 * The public types as an app's strict TypeScript sees them: after `app.use(parLogin())`, `req.auth`
 * and `res.login` need no `!`; standard claims are typed; the app's own claims come in by declaration
 * merging (`CustomClaims`). Each fixture is compiled on its own with the repository's compiler options.
 */
import { describe, expect, it } from '@jest/globals';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The diagnostics of compiling `fixture` alone, as `line: TScode` (1-based lines). */
function diagnosticsOf(fixture: string): string[] {
  const configFile = ts.readConfigFile(join(root, 'tsconfig.json'), (path) => ts.sys.readFile(path));
  const { options } = ts.parseJsonConfigFileContent(configFile.config, ts.sys, root);
  const file = join(root, 'test', 'types', 'fixtures', fixture);
  const program = ts.createProgram([file], { ...options, noEmit: true });
  return ts.getPreEmitDiagnostics(program).map((diagnostic) => {
    const where =
      diagnostic.file && diagnostic.start !== undefined
        ? `${diagnostic.file.fileName === file ? '' : `${diagnostic.file.fileName} `}${
            diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start).line + 1
          }`
        : '?';
    return `${where}: TS${diagnostic.code}`;
  });
}

describe('the types an app compiles against', () => {
  it('let a strict app use req.auth, res.login and typed claims without non-null assertions', () => {
    expect(diagnosticsOf('app.ts')).toEqual([]);
  }, 60_000);

  it('refuse a wrong claim type, an undeclared custom claim used as a string, and a bad login option', () => {
    expect(diagnosticsOf('misuse.ts')).toEqual(['7: TS2322', '8: TS2322', '9: TS2322']);
  }, 60_000);
});
