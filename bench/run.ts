/**
 * `npm run bench`: measure express-par-login against its references and express-openid-connect,
 * side by side, and judge the targets. `--smoke` (or BENCH_SMOKE=1) runs every scenario
 * briefly and only checks that it works; `--profile` writes CPU profiles of our apps into
 * bench/profiles/; `--only=login-start,logged-in,complete-login,footprint` picks scenarios.
 * The table goes to stdout and, after a full run of every scenario, to bench/results.md.
 *
 * @module
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findRedis } from './redis.js';
import { Report } from './report.js';
import { log } from './rounds.js';
import { completeLogin } from './scenarios/complete-login.js';
import { footprint } from './scenarios/footprint.js';
import { loggedIn } from './scenarios/logged-in.js';
import { loginStart } from './scenarios/login-start.js';
import { readSettings } from './settings.js';
import { closeWalks } from './walks.js';

const settings = readSettings(process.argv.slice(2), process.env);
const report = new Report();
const started = Date.now();
const profileDir = settings.profile ? fileURLToPath(new URL('./profiles/', import.meta.url)) : undefined;
if (profileDir !== undefined) mkdirSync(profileDir, { recursive: true });
const redis = await findRedis(process.env);

const scenarios: Array<[string, () => Promise<void>]> = [
  ['login-start', () => loginStart(settings, report, profileDir && join(profileDir, 'login-start'))],
  ['logged-in', () => loggedIn(settings, report, redis, profileDir && join(profileDir, 'logged-in'))],
  ['complete-login', () => completeLogin(settings, report, profileDir && join(profileDir, 'complete-login'))],
  ['footprint', () => footprint(settings, report)],
];
try {
  for (const [name, run] of scenarios) {
    if (settings.only !== undefined && !settings.only.has(name)) continue;
    try {
      await run();
    } catch (err) {
      report.problem(
        `${name} did not complete: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
      );
    }
  }
} finally {
  await redis?.stop();
  await closeWalks();
}

const seconds = Math.round((Date.now() - started) / 1000);
const machine = `Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model.trim() ?? 'unknown CPU'}`;
const mode = settings.smoke
  ? 'smoke run (numbers not judged)'
  : `${settings.runs} rounds × ${settings.duration} s per target after ${settings.warmup} s warm-up, ${settings.connections} connections`;
const markdown = report
  .markdown(`express-par-login benchmark results`, !settings.smoke)
  .replace(
    '\n\n',
    `\n\n${new Date().toISOString().slice(0, 10)}; ${machine}; ${mode}; took ${seconds} s.\n\n`,
  );
process.stdout.write(markdown);
if (!settings.smoke && settings.only === undefined) {
  writeFileSync(new URL('./results.md', import.meta.url), markdown);
  log('written to bench/results.md');
}
if (settings.smoke && report.problems.length > 0) process.exitCode = 1;
