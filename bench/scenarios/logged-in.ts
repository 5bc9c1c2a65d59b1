/**
 * Scenario 2, the logged-in path: a `requireLogin()` route with a real session (logged in once
 * through the real AS with the test browser, its cookie reused), in memory and in Redis, against
 * a bare Express route and a bare express-session route holding the very same session; the same
 * for an HTML page rendered from the user's claims (`GET /page`, `renderPage` in bench/apps.ts); and
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
import { SESSION_COOKIE, startStack, type AppKind, type BenchStack } from '../stack.js';
import { formatSummary, ratios, summarize } from '../stats.js';
import { loginThroughApp } from '../walks.js';

const SCENARIO = '2. Logged-in path';
const EXPECTED_BODY = JSON.stringify({ sub: 'alice' });
const PAGE_TYPE = 'text/html; charset=utf-8';
const OURS_PAGE = 'ours requireLogin() page (claims rendered)';
const BARE_PAGE = 'bare express-session page (claims rendered)';
/** Ours is judged against the bare express-session route or page with the reference's store. */
const TARGET = 1.0;

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

/** `/page` of `app` with `cookie`: its bytes, after checking the status and the content type. */
async function fetchPage(app: Child, cookie: string): Promise<Buffer> {
  const response = await request(`${app.url}/page`, { headers: { cookie } });
  const body = Buffer.from(await response.body.arrayBuffer());
  const type = response.headers['content-type'];
  if (response.statusCode !== 200 || type !== PAGE_TYPE)
    throw new Error(
      `${app.name} /page answered ${response.statusCode} (${String(type)}) ${body.toString().slice(0, 200)}`,
    );
  return body;
}

/**
 * Check that ours and every bare app answer `/page` for the same session with the same bytes, so
 * that their runs render the same page. Returns the page's size in bytes.
 */
async function expectSamePage(ours: Child, bares: Child[], cookie: string): Promise<number> {
  const expected = await fetchPage(ours, cookie);
  for (const bare of bares) {
    const body = await fetchPage(bare, cookie);
    if (!body.equals(expected)) {
      let at = 0;
      while (at < Math.min(body.length, expected.length) && body[at] === expected[at]) at += 1;
      throw new Error(
        `${bare.name} /page (${body.length} bytes) differs from ${ours.name}'s (${expected.length} bytes) ` +
          `at byte ${at}: ${JSON.stringify(body.subarray(at, at + 80).toString())} vs ` +
          JSON.stringify(expected.subarray(at, at + 80).toString()),
      );
    }
  }
  return expected.length;
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
          'the middleware does not accept a `redisUrl` option / `REDIS_URL` yet (after a login the session ' +
          'was not in Redis), so the Redis variant was skipped',
      };
    return { cookie: cookieHeader, json };
  } finally {
    await client.close();
  }
}

/** A load target on `path` of `app` with `cookie`, measuring the app's CPU. */
function target(app: Child, label: string, cookie: string, path: '/private' | '/page'): LoadTarget {
  return { label, url: `${app.url}${path}`, expectStatus: 200, headers: { cookie }, cpuOf: [app] };
}

type Apps = Required<BenchStack['apps']>;

/** The in-memory targets: ours, the bare references (seeded with our session) and express-openid-connect. */
async function memoryTargets(
  apps: Apps,
  cookie: string,
  eocCookie: string,
  report: Report,
): Promise<Record<string, LoadTarget>> {
  const sid = sessionId(cookie);
  const json = await apps['ours-basic'].call('session', { sid });
  if (json === undefined) throw new Error('our session is not in the in-memory store');
  await apps['bare-session'].call('seed', { sid, json });
  await apps['bare-session-ttl'].call('seed', { sid, json });
  const bytes = await expectSamePage(
    apps['ours-basic'],
    [apps['bare-session'], apps['bare-session-ttl']],
    cookie,
  );
  report.note(
    `${SCENARIO}: the page rows load \`GET /page\`, an HTML page of ${bytes.toLocaleString('en-US')} bytes ` +
      "rendered from the logged-in user's claims (a layout with head, title and nav, a greeting with the " +
      'escaped name, a table of sub, name, email, email_verified, iat and auth_time as ISO dates, static ' +
      'paragraphs), built with template strings and one HTML-escape function. Ours and the bare ' +
      'express-session apps render it with the same function (`renderPage` in bench/apps.ts) and answer ' +
      'the same bytes (checked before the runs); only how the claims are reached differs: ' +
      '`req.auth.claims` for ours, `req.session.parLogin.user.claims` (401 without a user) for the bare apps.',
  );
  const [memory, ttl] = ['MemoryStore', "ours's TtlMemoryStore"];
  return {
    bare: target(apps.bare, 'bare Express route (no session)', cookie, '/private'),
    bareSession: target(apps['bare-session'], `bare express-session route, ${memory}`, cookie, '/private'),
    bareSessionTtl: target(
      apps['bare-session-ttl'],
      `bare express-session route, ${ttl}`,
      cookie,
      '/private',
    ),
    ours: target(apps['ours-basic'], 'ours requireLogin() route, in-memory store', cookie, '/private'),
    eoc: target(
      apps['eoc-basic'],
      'express-openid-connect requiresAuth() route (cookie session)',
      eocCookie,
      '/private',
    ),
    bareSessionPage: target(apps['bare-session'], `${BARE_PAGE}, ${memory}`, cookie, '/page'),
    bareSessionTtlPage: target(apps['bare-session-ttl'], `${BARE_PAGE}, ${ttl}`, cookie, '/page'),
    oursPage: target(apps['ours-basic'], `${OURS_PAGE}, in-memory store`, cookie, '/page'),
  };
}

/** The Redis targets (ours and bare express-session + connect-redis), or why they were skipped. */
async function redisTargets(
  apps: Apps,
  issuer: string,
  redis: RedisServer,
): Promise<{ targets: Record<string, LoadTarget> } | { skipped: string }> {
  const found = await redisSession(apps['ours-redis'], issuer, redis.url);
  if ('skipped' in found) return found;
  const { cookie, json } = found;
  await apps['bare-session-redis'].call('seed', { sid: sessionId(cookie), json });
  await expectSamePage(apps['ours-redis'], [apps['bare-session-redis']], cookie);
  const [bare, ours] = [apps['bare-session-redis'], apps['ours-redis']];
  const targets = {
    bareSessionRedis: target(bare, 'bare express-session route, connect-redis', cookie, '/private'),
    oursRedis: target(ours, 'ours requireLogin() route, Redis', cookie, '/private'),
    bareSessionRedisPage: target(bare, `${BARE_PAGE}, connect-redis`, cookie, '/page'),
    oursRedisPage: target(ours, `${OURS_PAGE}, Redis`, cookie, '/page'),
  };
  return { targets };
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
    const apps = stack.apps as Apps;
    const ours = await loginThroughApp(apps['ours-basic'].url, stack.issuer, 303);
    const eoc = await loginThroughApp(apps['eoc-basic'].url, stack.issuer, 302);
    const targets = await memoryTargets(apps, ours.cookieHeader, eoc.cookieHeader, report);
    if (redis !== undefined) {
      const found = await redisTargets(apps, stack.issuer, redis);
      if ('skipped' in found) report.note(`${SCENARIO}: ${found.skipped} (Redis: ${redis.origin}).`);
      else Object.assign(targets, found.targets);
    } else
      report.note(`${SCENARIO}: no REDIS_URL and no redis-server binary: the Redis variant was skipped.`);
    for (const { url, cpuOf, headers } of Object.values(targets))
      if (url.endsWith('/private')) await expectLoggedIn(cpuOf![0]!, headers!.cookie!);

    // Each judged row beside its reference (and ours beside the same store's bare app), back to back.
    const groups = [
      ['bareSession', 'ours', 'bareSessionTtl'],
      ['bareSessionPage', 'oursPage', 'bareSessionTtlPage'],
      ['bareSessionRedis', 'oursRedis'],
      ['bareSessionRedisPage', 'oursRedisPage'],
    ].filter((group) => group.every((key) => key in targets));
    const results = await runRounds(targets, settings, report, {}, groups);
    addRows(report, results, targets);
    addCookieRows(report, ours.cookieHeader, eoc.cookieHeader);
  } finally {
    await stack.stop();
  }
}

type RowAdder = (key: string, references?: Array<[string, string]>, minimum?: number) => void;

/** A function adding the row of a target, with ratios to `references` (key, label); the first is judged. */
function rowAdder(
  report: Report,
  results: Record<string, LoadResult[]>,
  targets: Record<string, LoadTarget>,
): RowAdder {
  const rps = (key: string): number[] => results[key]!.map((r) => r.rps);
  return (key, references = [], minimum) => {
    const ratioList = references.map(([reference, label]) => ({
      ratio: ratios(rps(key), rps(reference)),
      label,
    }));
    const cpu = summarize(results[key]!.map((r) => Object.values(r.cpuPerRequest)[0]!));
    const judged = ratioList[0];
    const shown = minimum === undefined || !Number.isInteger(minimum) ? String(minimum) : minimum.toFixed(1);
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
        ? { target: { text: `≥ ${shown}× ${judged.label}`, pass: judged.ratio.median >= minimum } }
        : {}),
    });
  };
}

function addRows(
  report: Report,
  results: Record<string, LoadResult[]>,
  targets: Record<string, LoadTarget>,
): void {
  const row = rowAdder(report, results, targets);
  row('bare');
  row('bareSession', [['bare', 'bare route']]);
  row('bareSessionTtl', [['bare', 'bare route']]);
  row(
    'ours',
    [
      ['bareSession', 'bare express-session'],
      ['bareSessionTtl', 'bare express-session with the same store'],
    ],
    TARGET,
  );
  row('eoc', [['bareSession', 'bare express-session']]);
  row('bareSessionPage', [['bareSession', 'its /private route']]);
  row('bareSessionTtlPage', [['bareSessionTtl', 'its /private route']]);
  row(
    'oursPage',
    [
      ['bareSessionPage', 'bare express-session page'],
      ['bareSessionTtlPage', 'bare express-session page with the same store'],
    ],
    TARGET,
  );
  if (targets.oursRedis !== undefined) {
    row('bareSessionRedis', [['bare', 'bare route']]);
    row('oursRedis', [['bareSessionRedis', 'bare express-session + Redis']], TARGET);
    row('bareSessionRedisPage', [['bareSessionRedis', 'its /private route']]);
    row('oursRedisPage', [['bareSessionRedisPage', 'bare express-session page + Redis']], TARGET);
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
