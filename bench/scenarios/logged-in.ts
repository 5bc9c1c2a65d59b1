/**
 * Scenario 2, the logged-in path: a `requireLogin()` route with a real session (logged in once
 * through the real AS with the test browser, its cookie reused), in memory and in Redis, against
 * a bare Express route and a bare express-session route holding the very same session; and
 * express-openid-connect's `requiresAuth()` route. Also the cookies each login leaves in the
 * browser (scenario 4's cookie part, measured here because this is where real logins happen).
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { compactSessionIds, signedCookieLength } from '../../src/session/session-id.js';
import { createClient } from 'redis';
import { request } from 'undici';
import type { Child } from '../children.js';
import type { LoadResult, LoadTarget } from '../load.js';
import type { RedisServer } from '../redis.js';
import type { Report } from '../report.js';
import { log, runRounds } from '../rounds.js';
import type { Settings } from '../settings.js';
import { SESSION_COOKIE, startStack, type AppKind } from '../stack.js';
import { formatSummary, ratios, summarize } from '../stats.js';
import { loginThroughApp } from '../walks.js';

const SCENARIO = '2. Logged-in path';
const EXPECTED_BODY = JSON.stringify({ sub: 'alice' });

/** The session id inside an express-session cookie header (`name=s%3A<id>.<signature>`). */
function sessionId(cookieHeader: string): string {
  const value = decodeURIComponent(
    cookieHeader
      .split('; ')
      .find((c) => c.startsWith(`${SESSION_COOKIE}=`))!
      .slice(SESSION_COOKIE.length + 1),
  );
  return value.slice(2, value.lastIndexOf('.'));
}

async function expectLoggedIn(app: Child, cookie: string): Promise<void> {
  const response = await request(`${app.url}/private`, { headers: { cookie } });
  const body = await response.body.text();
  if (response.statusCode !== 200 || body !== EXPECTED_BODY)
    throw new Error(`${app.name} /private answered ${response.statusCode} ${body.slice(0, 200)}`);
}

/**
 * Our session in Redis through the `redisUrl` option, when src supports it: log in, then look for
 * the session in Redis. Returns its key's JSON, or why the variant is skipped.
 */
async function redisSession(
  app: Child,
  issuer: string,
  redisUrl: string,
): Promise<{ cookie: string; json: string } | { skipped: string }> {
  const { cookieHeader } = await loginThroughApp(app.url, issuer, 303);
  const client = await createClient({ url: redisUrl }).connect();
  try {
    const keys = await client.keys(`*${sessionId(cookieHeader)}*`);
    const json = keys.length === 1 ? await client.get(keys[0]!) : null;
    if (json === null)
      return {
        skipped:
          'the middleware does not accept a `redisUrl` option / `REDIS_URL` yet (after a login the session was not in Redis), so the Redis variant was skipped',
      };
    return { cookie: cookieHeader, json };
  } finally {
    await client.close();
  }
}

/** Run scenario 2 and add its rows. */
export async function loggedIn(
  settings: Settings,
  report: Report,
  redis: RedisServer | undefined,
  cpuProfileDir: string | undefined,
): Promise<void> {
  log(`${SCENARIO}: starting the AS and the apps`);
  const kinds: AppKind[] = [
    'ours-basic',
    'eoc-basic',
    'bare',
    'bare-session',
    'bare-session-ttl',
    ...(redis ? (['ours-redis', 'bare-session-redis'] as const) : []),
  ];
  const stack = await startStack(kinds, { redisUrl: redis?.url, cpuProfileDir });
  try {
    const apps = stack.apps as Required<typeof stack.apps>;
    const ours = await loginThroughApp(apps['ours-basic'].url, stack.issuer, 303);
    const eoc = await loginThroughApp(apps['eoc-basic'].url, stack.issuer, 302);
    const sid = sessionId(ours.cookieHeader);
    const json = await apps['ours-basic'].call('session', { sid });
    if (json === undefined) throw new Error('our session is not in the in-memory store');
    await apps['bare-session'].call('seed', { sid, json });
    await apps['bare-session-ttl'].call('seed', { sid, json });

    const route = (app: Child, label: string, cookie: string): LoadTarget => ({
      label,
      url: `${app.url}/private`,
      expectStatus: 200,
      headers: { cookie },
      cpuOf: [app],
    });
    const targets: Record<string, LoadTarget> = {
      bare: route(apps.bare, 'bare Express route (no session)', ours.cookieHeader),
      bareSession: route(apps['bare-session'], 'bare express-session route, MemoryStore', ours.cookieHeader),
      bareSessionTtl: route(
        apps['bare-session-ttl'],
        "bare express-session route, ours's TtlMemoryStore",
        ours.cookieHeader,
      ),
      ours: route(apps['ours-basic'], 'ours requireLogin() route, in-memory store', ours.cookieHeader),
      eoc: route(
        apps['eoc-basic'],
        'express-openid-connect requiresAuth() route (cookie session)',
        eoc.cookieHeader,
      ),
    };
    if (redis !== undefined) {
      const found = await redisSession(apps['ours-redis'], stack.issuer, redis.url);
      if ('skipped' in found) report.note(`${SCENARIO}: ${found.skipped} (Redis: ${redis.origin}).`);
      else {
        await apps['bare-session-redis'].call('seed', { sid: sessionId(found.cookie), json: found.json });
        targets.bareSessionRedis = route(
          apps['bare-session-redis'],
          'bare express-session route, connect-redis',
          found.cookie,
        );
        targets.oursRedis = route(apps['ours-redis'], 'ours requireLogin() route, Redis', found.cookie);
      }
    } else
      report.note(`${SCENARIO}: no REDIS_URL and no redis-server binary: the Redis variant was skipped.`);
    for (const target of Object.values(targets))
      await expectLoggedIn(target.cpuOf![0]!, target.headers!.cookie!);

    const results = await runRounds(targets, settings, report);
    addRows(report, results, targets);
    addCookieRows(report, ours.cookieHeader, eoc.cookieHeader);
  } finally {
    await stack.stop();
  }
}

function addRows(
  report: Report,
  results: Record<string, LoadResult[]>,
  targets: Record<string, LoadTarget>,
): void {
  const rps = (key: string): number[] => results[key]!.map((r) => r.rps);
  /** A row with ratios to `references` (label by key); the first is judged against `minimum`. */
  const row = (key: string, references: Array<[string, string]> = [], minimum?: number): void => {
    const ratioList = references.map(([reference, label]) => ({
      ratio: ratios(rps(key), rps(reference)),
      label,
    }));
    const cpu = summarize(results[key]!.map((r) => Object.values(r.cpuPerRequest)[0]!));
    const judged = ratioList[0];
    report.add({
      scenario: SCENARIO,
      measurement: targets[key]!.label,
      result: `${formatSummary(summarize(rps(key)), 0, ' req/s')}; ${formatSummary(cpu, 0, ' µs')} CPU/req`,
      ...(ratioList.length > 0
        ? {
            ratio: ratioList.map(({ ratio, label }) => `${formatSummary(ratio, 2, '×')} ${label}`).join('; '),
          }
        : {}),
      ...(judged && minimum !== undefined
        ? { target: { text: `≥ ${minimum}× ${judged.label}`, pass: judged.ratio.median >= minimum } }
        : {}),
    });
  };
  row('bare');
  row('bareSession', [['bare', 'bare route']]);
  row('bareSessionTtl', [['bare', 'bare route']]);
  row(
    'ours',
    [
      ['bareSession', 'bare express-session'],
      ['bareSessionTtl', 'bare express-session with the same store'],
    ],
    0.95,
  );
  row('eoc', [['bareSession', 'bare express-session']]);
  if (targets.oursRedis !== undefined) {
    row('bareSessionRedis', [['bare', 'bare route']]);
    row('oursRedis', [['bareSessionRedis', 'bare express-session + Redis']], 0.95);
  }
}

/**
 * The largest `name=value` among `count` sessions of the https cookie name, with the session ids
 * parLogin() draws (`compactSessionIds`) signed as express-session signs them (`signedCookieLength`
 * is checked against express-session's real Set-Cookie in test/session-id.test.ts).
 */
function largestHttpsCookie(name: string, count: number): number {
  const secret = randomBytes(32).toString('base64url');
  const next = compactSessionIds(name, secret);
  let largest = 0;
  for (let i = 0; i < count; i += 1) largest = Math.max(largest, signedCookieLength(name, next(), secret));
  return largest;
}

function addCookieRows(report: Report, ours: string, eoc: string): void {
  const sessionCookie = ours.split('; ').find((c) => c.startsWith(`${SESSION_COOKIE}=`))!;
  report.add({
    scenario: '4. Footprint',
    measurement: 'ours: session cookie after login (name=value), http',
    result: `${Buffer.byteLength(sessionCookie)} bytes`,
    target: { text: '< 100 bytes', pass: Buffer.byteLength(sessionCookie) < 100 },
  });
  const https = largestHttpsCookie('__Host-parlogin', 10_000);
  report.add({
    scenario: '4. Footprint',
    measurement: 'ours: session cookie on https (`__Host-parlogin`), largest of 10,000 sessions',
    result: `${https} bytes`,
    target: { text: '< 100 bytes', pass: https < 100 },
  });
  const names = (header: string): string =>
    header
      .split('; ')
      .map((c) => c.slice(0, c.indexOf('=')))
      .join(', ');
  for (const [who, header] of [
    ['ours', ours],
    ['express-openid-connect', eoc],
  ] as const) {
    report.add({
      scenario: '4. Footprint',
      measurement: `${who}: Cookie header the browser sends to the app after login`,
      result: `${Buffer.byteLength(header)} bytes (${names(header)})`,
    });
  }
}
