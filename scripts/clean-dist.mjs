// Before `tsc` (npm run build): delete what dist/ holds for a source file that no longer exists (a
// module moved or removed), so that `npm pack` never ships a stale module or a source map pointing at
// nothing. Only stale files go: a build running beside another (two `npm pack` at once) never sees
// a file it needs disappear.
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';

/** The source of a built file: `dist/a/b.js`, `b.d.ts`, `b.js.map`, `b.d.ts.map` → `src/a/b.ts`. */
const sourceOf = (file) => join('src', relative('dist', file).replace(/(\.d)?\.(js|ts|cts)(\.map)?$/, '.ts'));

const walk = (dir) =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? walk(join(dir, entry.name)) : [join(dir, entry.name)],
  );

if (existsSync('dist'))
  for (const file of walk('dist')) if (!existsSync(sourceOf(file))) rmSync(file, { force: true });
