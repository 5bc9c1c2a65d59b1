/**
 * Sessions in a real redis-server: several instances, key lifetimes, tokens encrypted at rest,
 * outages, and floods of abandoned logins.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import express from 'express';
import { request as http } from 'undici';
import { createApp, PAR_LOGIN_LOCAL } from '../../sample-app/app.js';
import { listen, type Listening } from '../../sample-app/listen.js';
import { createSealer, deriveKey } from '../../src/crypto/seal.js';
import { restoredIdToken } from '../../src/state/kept-id-token.js';
import {
  parLogin,
  type ParLoginMiddleware,
  type ParLoginOptions,
  type ParLoginSessionData,
  type TokenSet,
} from '../../src/index.js';
import { middlewareOf } from '../helpers/middleware.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { contextOf } from '../helpers/tokens.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { readStoredLogin } from '../../src/routes/login-binding.js';

const GRACE = 30;
const IDLE = 600;
let redis: TestRedis;
let stack: Stack;
let second: Listening;
let secondApp: ReturnType<typeof createApp>;

/** Session keys (`parlogin:<id>`): the shared state has its own prefix (`parlogin-state:`). */
async function sessionKeys(): Promise<string[]> {
  return (await redis.inspect.keys('parlogin:*')).sort();
}
/** The keys of pending logins (login-binding.ts). */
async function pendingKeys(): Promise<string[]> {
  return (await redis.inspect.keys('parlogin-state:tx:*')).sort();
}
async function sessionOf(key: string): Promise<{ parLogin?: ParLoginSessionData }> {
  return JSON.parse((await redis.inspect.get(key))!) as { parLogin?: ParLoginSessionData };
}
/** Deliver a URL of the app to the second instance, as a load balancer would. */
function onSecond(url: string): string {
  return url.replace(stack.appUrl, second.url);
}

beforeAll(async () => {
  redis = await startRedis();
  stack = await startStack({
    overrides: {
      redisUrl: redis.url,
      loginGraceSeconds: GRACE,
      sessionIdleTimeoutSeconds: IDLE,
      sessionAbsoluteTimeoutSeconds: 3600,
      // The floods below measure the store's cost per login: the per-IP cap (login-rate.test.ts) is off.
      maxLoginStartsPerIpPerMinute: 0,
    },
  });
  secondApp = createApp(stack.options);
  second = await listen(0, '127.0.0.1', secondApp);
  await (secondApp.locals[PAR_LOGIN_LOCAL] as ParLoginMiddleware).ready();
});
afterAll(async () => {
  await second.close();
  await (secondApp.locals[PAR_LOGIN_LOCAL] as ParLoginMiddleware).close();
  await stack.close();
  await redis.close();
});

describe('two instances sharing one Redis', () => {
  it('finishes on B a login started on A, serves /me on both, and a logout on A ends it on B', async () => {
    const browser = stack.browser();
    const { callbackUrl } = await browser.stepUntilCallback(stack.appUrl, { returnTo: '/profile' });
    const callback = await browser.navigate(onSecond(callbackUrl));
    expect(callback.status).toBe(303);
    expect(callback.location).toBe(`${stack.appUrl}/profile`);
    expect((await browser.navigate(`${stack.appUrl}/me`)).status).toBe(200);
    expect((await browser.navigate(`${second.url}/me`)).status).toBe(200);
    const page = await browser.navigate(`${stack.appUrl}/logout`);
    expect((await browser.submitForm(page.body, page.url)).status).toBe(303);
    expect((await browser.navigate(`${second.url}/me`)).status).toBe(401);
  });
});

describe('rotating SESSION_SECRET', () => {
  /** An instance of the app with other session secrets, sharing the Redis, with a route that needs the user's tokens. */
  async function instance(
    overrides: Partial<ParLoginOptions>,
  ): Promise<{ url: string; close(): Promise<void> }> {
    const middleware = parLogin({ ...stack.options, ...overrides });
    const app = express();
    app.use(middleware);
    app.get('/token-length', async (req, res, next) => {
      try {
        res.json({ length: (await req.auth.accessToken()).length });
      } catch (err) {
        next(err);
      }
    });
    // Connected before the first request: without an offline queue, a request racing the connect gets 503.
    await middleware.ready();
    const server = await listen(0, '127.0.0.1', app);
    return {
      url: server.url,
      close: async () => {
        await server.close();
        await middleware.close();
      },
    };
  }

  it('keeps sessions and their tokens on an instance whose new secret lists the old one as previous, and on no other', async () => {
    const browser = stack.browser();
    await browser.login(stack.appUrl);
    const newSecret = 'rotated-session-secret-0123456789abcdefghij';
    const rotated = await instance({
      sessionSecret: newSecret,
      previousSessionSecrets: [stack.options.sessionSecret!],
    });
    const forgetful = await instance({ sessionSecret: newSecret });
    try {
      const me = await browser.navigate(`${rotated.url}/me`);
      expect(me.status).toBe(200);
      const token = await browser.request(`${rotated.url}/token-length`, {
        headers: { accept: 'application/json' },
      });
      expect(token.status).toBe(200);
      expect((JSON.parse(token.body) as { length: number }).length).toBeGreaterThan(20);
      expect((await browser.navigate(`${forgetful.url}/me`)).status).toBe(401);
    } finally {
      await rotated.close();
      await forgetful.close();
    }
  });
});

describe('keys and lifetimes', () => {
  it('gives an abandoned login one key that lives the PAR lifetime plus the grace, and no session', async () => {
    const sessionsBefore = (await sessionKeys()).length;
    const before = new Set(await pendingKeys());
    const login = await stack.browser().navigate(`${stack.appUrl}/login`);
    expect(login.status).toBe(303);
    expect([login.headers['set-cookie']].flat().filter((c) => c?.startsWith('parlogin='))).toEqual([]);
    const added = (await pendingKeys()).filter((key) => !before.has(key));
    expect(added).toHaveLength(1);
    const ttl = await redis.inspect.ttl(added[0]!);
    expect(ttl).toBeGreaterThan(GRACE);
    expect(ttl).toBeLessThanOrEqual(60 + GRACE); // oidc-provider's request_uri lives 60 s
    const raw = (await redis.inspect.get(added[0]!))!;
    const stored = readStoredLogin(raw)!;
    expect(Object.keys(stored.tx)).toEqual(
      expect.arrayContaining(['state', 'nonce', 'codeVerifier', 'expiresAtMs']),
    );
    // The cookie's secret is kept only as a digest.
    const secret = String([login.headers['set-cookie']].flat().find((c) => c?.startsWith('parlogin-tx-')))
      .split(';')[0]!
      .split('.')[1]!;
    expect(stored.binding).toBe(
      createHash('sha256').update(secret).digest().subarray(0, 16).toString('base64url'),
    );
    expect(raw).not.toContain(secret);
    expect((await sessionKeys()).length).toBe(sessionsBefore);
  });

  it('gives a logged-in session the idle timeout, renewed by activity', async () => {
    const browser = stack.browser();
    const before = new Set(await sessionKeys());
    await browser.login(stack.appUrl);
    const loggedIn = [];
    for (const key of await sessionKeys())
      if (!before.has(key) && (await sessionOf(key)).parLogin?.user) loggedIn.push(key);
    expect(loggedIn).toHaveLength(1);
    const key = loggedIn[0]!;
    expect(await redis.inspect.ttl(key)).toBeGreaterThan(IDLE - 10);
    expect(await redis.inspect.ttl(key)).toBeLessThanOrEqual(IDLE);
    await redis.inspect.expire(key, 100);
    expect((await browser.navigate(`${stack.appUrl}/me`)).status).toBe(200);
    expect(await redis.inspect.ttl(key)).toBeGreaterThan(IDLE - 10);
  });

  it('renews the idle timer with the read itself, and cuts it to what is left of the absolute lifetime', async () => {
    const browser = stack.browser();
    const before = new Set(await sessionKeys());
    await browser.login(stack.appUrl);
    const key = (await sessionKeys()).find((candidate) => !before.has(candidate))!;
    await redis.inspect.expire(key, IDLE - 200);
    expect((await browser.navigate(`${stack.appUrl}/me`)).status).toBe(200);
    expect(await redis.inspect.ttl(key)).toBeGreaterThan(IDLE - 10);
    // 100 s of the absolute lifetime left: the session lives no longer than that.
    const stored = (await sessionOf(key)) as { parLogin: { user: { loggedInAt: number } } };
    stored.parLogin.user.loggedInAt = Math.floor(Date.now() / 1000) - 3600 + 100;
    await redis.inspect.set(key, JSON.stringify(stored), { expiration: { type: 'EX', value: IDLE } });
    expect((await browser.navigate(`${stack.appUrl}/me`)).status).toBe(200);
    expect(await redis.inspect.ttl(key)).toBeLessThanOrEqual(100);
    expect(await redis.inspect.ttl(key)).toBeGreaterThan(90);
  });

  it('keeps no token readable in Redis', async () => {
    const browser = stack.browser();
    await browser.login(stack.appUrl);
    const sealer = createSealer([deriveKey(stack.options.sessionSecret!)]);
    const sessions = await Promise.all((await sessionKeys()).map((key) => redis.inspect.get(key)));
    const users = sessions
      .map((v) => (JSON.parse(v!) as { parLogin?: ParLoginSessionData }).parLogin?.user)
      .filter((u) => u !== undefined);
    expect(users.length).toBeGreaterThan(0);
    const everything = (
      await Promise.all(
        (await redis.inspect.keys('parlogin*')).map(async (key) =>
          (await redis.inspect.type(key)) === 'string'
            ? redis.inspect.get(key)
            : (await redis.inspect.sMembers(key)).join(' '),
        ),
      )
    ).join('\n');
    for (const user of users) {
      const record = await redis.inspect.get(`parlogin-state:tokens:${user.tokenRef}`);
      expect(record).not.toBeNull();
      expect(await redis.inspect.ttl(`parlogin-state:tokens:${user.tokenRef}`)).toBeGreaterThan(3500);
      const tokens = JSON.parse(sealer.open(record!, `tokens:${user.tokenRef}`)) as TokenSet;
      const idToken = restoredIdToken(tokens.idToken, user.claims); // kept without its payload
      expect(idToken?.split('.')).toHaveLength(3);
      for (const token of [tokens.accessToken, idToken, tokens.refreshToken].filter(Boolean)) {
        expect(everything).not.toContain(token!);
        expect(everything).not.toContain(token!.slice(0, 40));
      }
    }
  });
});

describe('Redis outages', () => {
  it('answers 503 quickly while Redis is down, keeps public routes up, and recovers', async () => {
    const browser = stack.browser();
    await browser.login(stack.appUrl);
    await redis.stop();
    const started = Date.now();
    const me = await browser.request(`${stack.appUrl}/me`, {
      headers: { accept: 'application/json', 'sec-fetch-mode': 'cors' },
    });
    expect(me.status).toBe(503);
    expect(JSON.parse(me.body)).toMatchObject({ error: 'session_store_unavailable' });
    const guarded = await browser.navigate(`${stack.appUrl}/profile`);
    expect(guarded.status).toBe(503);
    // The guard answers through the middleware's own responder: its page, its log record.
    expect(guarded.body).toContain('<code>session_store_unavailable</code>');
    const reference = /reference <code>([0-9a-f]+)<\/code>/.exec(guarded.body)?.[1];
    expect(stack.logs).toContainEqual(
      expect.objectContaining({ code: 'session_store_unavailable', id: reference, path: '/profile' }),
    );
    const login = await stack.browser().navigate(`${stack.appUrl}/login`);
    expect(login.status).toBe(503);
    expect(Date.now() - started).toBeLessThan(3000);
    expect((await browser.navigate(`${stack.appUrl}/`)).status).toBe(200);

    await redis.start();
    const deadline = Date.now() + 10_000;
    let status = 0;
    while (Date.now() < deadline && status !== 303) {
      status = (await stack.browser().navigate(`${stack.appUrl}/login`)).status;
      if (status !== 303) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(status).toBe(303);
    const fresh = stack.browser();
    const hops = await fresh.login(stack.appUrl, { returnTo: '/profile' });
    expect(hops.at(-1)!.body).toContain('Alice Example');
    expect((await fresh.navigate(`${second.url}/me`)).status).toBe(200);
  });
});

describe('a client the app passes in', () => {
  it('uses it with the configured prefix and leaves it open on close', async () => {
    const { createClient } = await import('redis');
    const client = createClient({ url: redis.url });
    await client.connect();
    try {
      const app = createApp({
        ...stack.options,
        redisUrl: undefined,
        redisClient: client,
        sessionPrefix: 'custom:',
      });
      const server = await listen(0, '127.0.0.1', app);
      try {
        const res = await http(`${server.url}/login`);
        await res.body.dump();
        expect(res.statusCode).toBe(303);
        // The pending login only (an anonymous login start creates no session), under the state prefix.
        expect(await redis.inspect.keys('custom:*')).toEqual([]);
        const keys = await redis.inspect.keys('custom-state:*');
        expect(keys).toHaveLength(1);
        expect(keys[0]).toMatch(/^custom-state:tx:[\w-]{10}$/);
        // It vanishes with the abandoned login.
        const copyTtl = await redis.inspect.ttl(keys[0]!);
        expect(copyTtl).toBeGreaterThan(0);
        expect(copyTtl).toBeLessThanOrEqual(60 + 240);
      } finally {
        await server.close();
        await (app.locals[PAR_LOGIN_LOCAL] as ParLoginMiddleware).close();
      }
      expect(await client.ping()).toBe('PONG');
    } finally {
      client.destroy();
    }
  });
});

describe('a store of the app beside REDIS_URL', () => {
  it('keeps the shared state in that Redis and closes the connection it opened', async () => {
    const clients = async (): Promise<number> => (await redis.inspect.clientList()).length;
    const before = await clients();
    const { MemoryStore } = await import('express-session');
    const app = createApp({ ...stack.options, sessionStore: new MemoryStore() });
    const middleware = app.locals[PAR_LOGIN_LOCAL] as ParLoginMiddleware;
    const server = await listen(0, '127.0.0.1', app);
    try {
      await middleware.ready();
      const res = await http(`${server.url}/login`);
      await res.body.dump();
      expect(res.statusCode).toBe(303);
      expect(await clients()).toBe(before + 1);
    } finally {
      await server.close();
      await middleware.close();
    }
    expect(await clients()).toBe(before);
  });
});

describe('floods of abandoned logins', () => {
  it('costs one short-lived key per login and bounded memory', async () => {
    const COUNT = 2000;
    const sessionsBefore = (await sessionKeys()).length;
    const before = (await pendingKeys()).length;
    global.gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    let next = 0;
    const statuses = new Map<number, number>();
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < COUNT) {
          next += 1;
          const res = await http(`${stack.appUrl}/login`);
          await res.body.dump();
          statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
        }
      }),
    );
    expect(statuses.get(303)).toBe(COUNT);
    expect((await sessionKeys()).length).toBe(sessionsBefore);
    const keys = await pendingKeys();
    expect(keys.length - before).toBe(COUNT);
    const sample = keys.slice(-50);
    for (const key of sample) expect(await redis.inspect.ttl(key)).toBeLessThanOrEqual(60 + GRACE);
    const sizes = await Promise.all(sample.map((key) => redis.inspect.strLen(key)));
    expect(Math.max(...sizes)).toBeLessThan(1024);
    // The app holds nothing per abandoned login: everything is in Redis (the in-process AS does hold its PAR objects).
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(150 * 1024 * 1024);
  }, 120_000);

  it('keeps at most five pending logins, and five cookies, for a flood from one browser', async () => {
    const browser = stack.browser();
    const sessionsBefore = (await sessionKeys()).length;
    const before = (await pendingKeys()).length;
    for (let i = 0; i < 30; i += 1)
      expect((await browser.navigate(`${stack.appUrl}/login`)).status).toBe(303);
    expect((await sessionKeys()).length).toBe(sessionsBefore);
    expect((await pendingKeys()).length - before).toBe(5);
    expect(browser.jar.all().filter((cookie) => cookie.name.startsWith('parlogin-tx-'))).toHaveLength(5);
  });
});

describe('upgrading from a shared state kept under the session prefix', () => {
  it("keeps a logged-in session's tokens and lets a back-channel logout reach it", async () => {
    const browser = stack.browser();
    await browser.login(stack.appUrl);
    const { claims } = JSON.parse((await browser.navigate(`${stack.appUrl}/me`)).body) as {
      claims: { sub: string; sid: string };
    };
    // Put the token record and the logout index where 0.2 kept them, under the session prefix.
    const moved = await redis.inspect.keys('parlogin-state:*');
    const stateKeys = moved.filter((key) => /^parlogin-state:(tokens|bcl:s(id|ub)):/.test(key));
    for (const key of stateKeys) await redis.inspect.rename(key, key.replace('parlogin-state:', 'parlogin:'));
    const [tokenKey] = stateKeys.filter((key) => key.includes(':tokens:'));
    const ref = tokenKey!.split(':tokens:')[1]!;

    const tokens = await contextOf(middlewareOf(stack)).vault.read(ref);
    expect(tokens?.idToken.split('.')).toHaveLength(3);
    // Moved under the state prefix on the way.
    expect(await redis.inspect.exists(`parlogin-state:tokens:${ref}`)).toBe(1);
    expect(await redis.inspect.exists(`parlogin:tokens:${ref}`)).toBe(0);

    const client = await stack.provider.Client.find('basic-client');
    await (
      client as unknown as { backchannelLogout(sub: string, sid: string): Promise<void> }
    ).backchannelLogout(claims.sub, claims.sid);
    expect((await browser.navigate(`${stack.appUrl}/me`)).status).toBe(401);
    expect(await redis.inspect.keys(`parlogin:bcl:sid:${claims.sid}`)).toEqual([]);
  });
});
