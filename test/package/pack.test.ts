/**
 * What `npm pack` ships: every source map points at a file the package contains, no test or
 * development file is in it, and `npm publish --dry-run` has nothing to correct.
 */
import { describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const run = promisify(execFile);

/** The files `npm pack` would put in the tarball (building `dist/` first, as `prepare` does). */
async function packedFiles(): Promise<string[]> {
  const { stdout } = await run('npm', ['pack', '--dry-run', '--json'], { cwd: root, maxBuffer: 64 << 20 });
  const [pack] = JSON.parse(stdout.slice(stdout.indexOf('['))) as Array<{ files: Array<{ path: string }> }>;
  return pack!.files.map((file) => file.path);
}

describe('the published package', () => {
  it('ships the sources its source maps point at, and nothing of the repository besides', async () => {
    const files = await packedFiles();
    const shipped = new Set(files);
    const maps = files.filter((file) => file.endsWith('.map'));
    expect(maps.length).toBeGreaterThan(50);
    const dangling: string[] = [];
    for (const map of maps) {
      const { sources } = JSON.parse(await readFile(join(root, map), 'utf8')) as { sources: string[] };
      for (const source of sources) {
        const target = posix.normalize(posix.join(posix.dirname(map), source));
        if (!shipped.has(target)) dangling.push(`${map} → ${target}`);
      }
    }
    expect(dangling).toEqual([]);
    expect(files.filter((file) => /^(test|bench|scripts|sample-app|\.ci)\//.test(file))).toEqual([]);
    expect(files).toEqual(
      expect.arrayContaining(['SECURITY.md', 'dist/index.js', 'dist/index.d.ts', 'src/index.ts']),
    );
  }, 180_000);

  it('publishes with nothing for npm to correct', async () => {
    const { stderr } = await run('npm', ['publish', '--dry-run', '--ignore-scripts'], {
      cwd: root,
      maxBuffer: 64 << 20,
    });
    const warnings = stderr
      .split('\n')
      .filter((line) => line.startsWith('npm warn') && !line.includes('requires you to be logged in'));
    expect(warnings).toEqual([]);
  }, 180_000);
});
