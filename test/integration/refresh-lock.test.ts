/**
 * The shared refresh lock across instances: two `parLogin()` middlewares sharing one real Redis, one
 * browser session on both, and a token endpoint whose refresh answer comes after the lock's lifetime.
 *
 * The timing: the lock's lifetime, not the HTTP timeout, is what a slow refresh must outlast. Each
 * back-channel call may take up to `httpTimeoutMs`, and the default lock lifetime
 * (`httpTimeoutMs * 2 + 1000`) outlasts any single call, so one slow token call cannot outlast it;
 * a refresh of several slow calls (token, DPoP-nonce retry, JWKS refetch) can. Here instance A's
 * lock is made short instead (`lockTtlMs` of {@link createAccessTokenSource}: 800 ms, renewed every
 * ~267 ms) while `httpTimeoutMs` stays long (4 s): the token endpoint answers the refresh after
 * 2.4 s, three lock lifetimes, yet far inside the HTTP timeout, so the test holds on a slow machine.
 * Instance B uses the middleware's own `req.auth.accessToken()` with the default lock.
 *
 * The scripted AS rotates refresh tokens and, like a careful AS, treats a reused one as theft: it
 * refuses it (`invalid_grant`), which ends the session.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import express from 'express';
import { PAR_LOGIN_LOCAL } from '../../sample-app/app.js';
import { createAccessTokenSource } from '../../src/app/access-token.js';
import { parLogin, type ParLoginOptions } from '../../src/index.js';
import type { AsRequest, Misbehaviour } from '../helpers/hostile-as.js';
import {
  FETCH_HEADERS,
  startHostileApp,
  useHostileAs,
  walkToCallback,
  withField,
  type HostileApp,
} from '../helpers/hostile-stack.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { codedJsonErrors, sha } from '../helpers/token-app.js';
import { contextOf } from '../helpers/tokens.js';
import type { Browser } from '../helpers/browser.js';

const fixture = useHostileAs();
let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis.close();
});

const LOCK_TTL_MS = 800;
const SLOW_REFRESH_MS = 2_400;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The app of one instance: `parLogin()` and `/call`, which reports a digest of the access token. */
function instanceApp(lockTtlMs?: number) {
  return (options: ParLoginOptions): express.Express => {
    const app = express();
    const auth = parLogin(options);
    app.locals[PAR_LOGIN_LOCAL] = auth;
    app.use(auth);
    const source =
      lockTtlMs === undefined ? undefined : createAccessTokenSource(contextOf(auth), { lockTtlMs });
    app.get('/call', (req, res, next) => {
      (source?.accessToken(req) ?? req.auth.accessToken()).then(
        (token) => void res.json({ token: sha(token) }),
        next,
      );
    });
    app.use(codedJsonErrors);
    return app;
  };
}

/** A refresh grant the scripted AS received. */
const refreshGrants = (): AsRequest[] =>
  fixture.as.requests.filter((r) => r.endpoint === 'token' && r.form.grant_type === 'refresh_token');

/**
 * Script the token endpoint: logins get a 5 s access token (stale at once: refreshSkewSeconds is
 * 30), refreshes rotate the refresh token; the first refresh answers after SLOW_REFRESH_MS. With
 * `reuseDetection`, a refresh token used twice is refused with invalid_grant. Returns the access
 * tokens issued by refreshes, in order.
 */
function scriptTokenEndpoint(reuseDetection: boolean): string[] {
  const spent = new Set<string>();
  const issued: string[] = [];
  fixture.as.script.token = (request): Misbehaviour | undefined => {
    if (request.form.grant_type !== 'refresh_token') return { body: withField('expires_in', 5) };
    const presented = request.form.refresh_token ?? '';
    const delayMs = refreshGrants().length === 1 ? SLOW_REFRESH_MS : 0;
    if (reuseDetection && spent.has(presented))
      return { status: 400, delayMs, body: { error: 'invalid_grant', error_description: 'reused' } };
    spent.add(presented);
    const accessToken = randomBytes(24).toString('base64url');
    issued.push(accessToken);
    const body = { access_token: accessToken, token_type: 'Bearer', expires_in: 600 };
    return { status: 200, delayMs, body: { ...body, refresh_token: randomBytes(24).toString('base64url') } };
  };
  return issued;
}

/** Instances A (short lock) and B (default lock) sharing the Redis, and a browser logged in on A. */
async function twoInstances(): Promise<{
  a: HostileApp;
  b: HostileApp;
  browser: Browser;
  apps: HostileApp[];
}> {
  const shared: Partial<ParLoginOptions> = {
    redisUrl: redis.url,
    sessionSecret: randomBytes(32).toString('base64url'),
    httpTimeoutMs: 4_000,
    sessionPrefix: `refresh-lock-${randomBytes(4).toString('hex')}:`,
  };
  const a = await startHostileApp(fixture.as, shared, instanceApp(LOCK_TTL_MS));
  const b = await startHostileApp(fixture.as, shared, instanceApp());
  await Promise.all([a.middleware.ready(), b.middleware.ready()]);
  const browser = a.browser();
  await browser.follow(await walkToCallback(a, browser));
  return { a, b, browser, apps: [a, b] };
}

/** The digest `/call` of `app` answers with, or its error code. */
async function call(
  app: HostileApp,
  browser: Browser,
): Promise<{ status: number; token?: string; error?: string }> {
  const hop = await browser.request(`${app.url}/call`, { headers: FETCH_HEADERS });
  return { status: hop.status, ...(JSON.parse(hop.body) as { token?: string; error?: string }) };
}

/** Wait until the scripted AS has received `count` refresh grants. */
async function refreshArrived(count: number): Promise<void> {
  for (let waitedMs = 0; refreshGrants().length < count; waitedMs += 10) {
    if (waitedMs > 5_000) throw new Error(`no refresh grant #${count} reached the AS`);
    await sleep(10);
  }
}

describe('a refresh that outlasts the lock lifetime, on two instances', () => {
  it('keeps the lock renewed: the other instance waits and uses the new tokens, one refresh grant in all', async () => {
    const issued = scriptTokenEndpoint(true);
    const { a, b, browser, apps } = await twoInstances();
    try {
      const loginRefreshToken = fixture.as.issued.at(-1)!.refreshToken;
      const onA = call(a, browser);
      await refreshArrived(1);
      await sleep(LOCK_TTL_MS * 1.5); // A's lock would have lapsed by now without renewal
      const onB = call(b, browser);
      const [fromA, fromB] = await Promise.all([onA, onB]);
      expect(refreshGrants().map((r) => r.form.refresh_token)).toEqual([loginRefreshToken]);
      const expected = { status: 200, token: sha(issued[0]!) };
      expect([fromA, fromB]).toEqual([expected, expected]);
      expect([await call(a, browser), await call(b, browser)]).toEqual([expected, expected]);
      expect(refreshGrants()).toHaveLength(1);
      expect([...a.logs, ...b.logs]).toEqual([]);
    } finally {
      for (const app of apps) await app.close();
    }
  });

  it('stores no tokens over a refresh that took the lost lock: the late instance uses those', async () => {
    const issued = scriptTokenEndpoint(false);
    const { a, b, browser, apps } = await twoInstances();
    try {
      const onA = call(a, browser);
      await refreshArrived(1);
      const prefix = a.middleware.config.statePrefix;
      const [lockKey] = await redis.inspect.keys(`${prefix}refresh:*`);
      expect(lockKey).toBeDefined();
      await redis.inspect.del(lockKey!); // A's lock is lost (as after a stall); B takes it and refreshes
      const fromB = await call(b, browser);
      expect(fromB).toEqual({ status: 200, token: sha(issued[1]!) });
      const fromA = await onA;
      expect(issued).toHaveLength(2); // A's refresh got its own tokens, then found B's stored
      expect(fromA).toEqual(fromB);
      expect([await call(a, browser), await call(b, browser)]).toEqual([fromB, fromB]);
      expect(refreshGrants()).toHaveLength(2);
      expect(a.logs).toEqual([
        expect.objectContaining({ msg: expect.stringMatching(/refresh lock lapsed/) }),
      ]);
    } finally {
      for (const app of apps) await app.close();
    }
  });
});

it('had no unhandled rejection', async () => {
  await sleep(20);
  expect(fixture.unhandledRejections).toEqual([]);
});
