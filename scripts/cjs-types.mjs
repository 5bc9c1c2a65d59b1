// After `tsc` (npm run build): the type entry points of `require('express-par-login')` and of
// `require('express-par-login/doctor')`. The package is ES modules, which Node 20.19+ can require();
// TypeScript projects compiled as CommonJS (`.cts`, `module: node16`) refuse to import an ES module's
// types (TS1479) unless the `require` condition names CommonJS declarations: these re-export the ES
// ones, so both module kinds see the same types.
import { writeFileSync } from 'node:fs';

const NOTE = '// Types of require(): the same as the ES module entry point.\n';
for (const entry of ['dist/index.d.cts', 'dist/doctor/index.d.cts'])
  writeFileSync(entry, `${NOTE}export * from './index.js';\n`);
