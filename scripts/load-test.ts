/**
 * A bounded load test (not part of `npm test`): N concurrent complete logins (login, the AS's
 * login and consent pages, callback, token exchange) against a real oidc-provider, with sessions
 * in a real redis-server, then a check that every browser's session is still there.
 *
 *   npm run load                      # 200 logins, 50 at a time
 *   LOAD_LOGINS=400 LOAD_CONCURRENCY=100 npm run load
 *
 * Prints failures and lost sessions (both expected to be zero) and exits 1 if either is not.
 *
 * @module
 */
import { startRedis } from '../test/helpers/redis.js';
import { startStack } from '../test/helpers/stack.js';
import type { Browser } from '../test/helpers/browser.js';

const logins = Number(process.env.LOAD_LOGINS ?? 200);
const concurrency = Number(process.env.LOAD_CONCURRENCY ?? 50);

const redis = await startRedis();
const stack = await startStack({
  overrides: {
    redisUrl: redis.url,
    httpTimeoutMs: 15_000,
    // Every login comes from 127.0.0.1: the per-IP cap would shed a run of more than 300.
    maxLoginStartsPerIpPerMinute: 0,
  },
});
const failures: string[] = [];
const browsers: Browser[] = [];
const started = Date.now();
let next = 0;

async function worker(): Promise<void> {
  while (next < logins) {
    const index = next++;
    const browser = stack.browser();
    try {
      const hops = await browser.login(stack.appUrl, { returnTo: '/profile', user: `user${index}` });
      const last = hops.at(-1)!;
      if (last.status !== 200 || !last.body.includes(`User${index} Example`))
        failures.push(`login ${index}: ${last.status} ${last.url}`);
      else browsers.push(browser);
    } catch (err) {
      failures.push(`login ${index}: ${(err as Error).message}`);
    }
  }
}

try {
  await Promise.all(Array.from({ length: Math.min(concurrency, logins) }, worker));
  const seconds = (Date.now() - started) / 1000;
  let lost = 0;
  for (const browser of browsers) {
    const me = await browser.navigate(`${stack.appUrl}/me`);
    if (me.status !== 200) lost += 1;
  }
  // Session keys are `parlogin:<id>`; the shared state (tokens, used logins, logout index) has its own prefix.
  const sessionKeys = (await redis.inspect.keys('parlogin:*')).length;
  const stateKeys = (await redis.inspect.keys('parlogin-state:*')).length;
  console.log(
    `logins: ${logins}, concurrency: ${concurrency}, time: ${seconds.toFixed(1)} s (${(logins / seconds).toFixed(1)} logins/s)`,
  );
  console.log(
    `failures: ${failures.length}, lost sessions: ${lost}, Redis keys: ${sessionKeys} sessions, ${stateKeys} shared state (tokens, used logins, logout index)`,
  );
  for (const failure of failures.slice(0, 10)) console.log(`  ${failure}`);
  process.exitCode = failures.length === 0 && lost === 0 ? 0 : 1;
} finally {
  await stack.close();
  await redis.close();
}
