/**
 * The BFF session API against oidc-provider (refresh tokens, back-channel logout): accessToken()
 * and its single-flight refresh (counted at the AS), rotation, invalid_grant, the API proxy and its
 * anti-forgery rule, /me, back-channel logout (replays and bad tokens), on one instance and on two
 * sharing a real Redis.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { createServer, request as nodeRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type express from 'express';
import type { Provider } from 'oidc-provider';
import { request as http } from 'undici';
import { PAR_LOGIN_LOCAL } from '../../sample-app/app.js';
import { listen, type Listening } from '../../sample-app/listen.js';
import type { ParLoginMiddleware } from '../../src/index.js';
import type { Browser } from '../helpers/browser.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { sha, tokenApp } from '../helpers/token-app.js';
import { contextOf } from '../helpers/tokens.js';

/** Access tokens live TTL seconds and are refreshed SKEW seconds before they expire: after TTL - SKEW. */
const TTL = 10;
const SKEW = 7;
const untilRefreshDue = (): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, (TTL - SKEW) * 1000 + 200));

/** A stand-in for the app's API: records what reaches it, answers with a cookie it must not leak. */
async function startApi(): Promise<{
  url: string;
  seen: Array<{ method: string; url: string; headers: IncomingHttpHeaders; body: string }>;
  server: Server;
}> {
  const seen: Array<{ method: string; url: string; headers: IncomingHttpHeaders; body: string }> = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req
      .on('data', (c: Buffer) => chunks.push(c))
      .on('end', () => {
        if (req.url!.includes('/slow')) return void setTimeout(() => res.end('late'), 1_500);
        seen.push({
          method: req.method!,
          url: req.url!,
          headers: req.headers,
          body: Buffer.concat(chunks).toString(),
        });
        res.setHeader('set-cookie', 'api=leak; Path=/');
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ ok: true, path: req.url }));
      });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, server };
}

/** The app under test, its API proxies pointed at the test API. */
function buildApp(apiUrl: string) {
  return tokenApp({
    '/api': { target: `${apiUrl}/v1` },
    '/same-origin-api': { target: `${apiUrl}/v1`, antiForgery: 'same-origin' },
    '/impatient-api': { target: `${apiUrl}/v1`, timeoutMs: 300 },
    '/dead-api': { target: 'http://127.0.0.1:9/v1' },
  });
}

const refreshes = (stack: Stack): number =>
  stack.record.filter((r) => r.endpoint === 'token' && r.body.grant_type === 'refresh_token').length;

async function vaultTokens(middleware: ParLoginMiddleware, browser: Browser, appUrl: string) {
  const me = await browser.navigate(`${appUrl}/me`);
  expect(me.status).toBe(200);
  const ctx = contextOf(middleware);
  // The session's token record: found through the back-channel index by the user's sid.
  const sid = (JSON.parse(me.body) as { claims: { sid: string } }).claims.sid;
  const members = await ctx.shared.takeSet(`bcl:sid:${sid}`);
  expect(members).toHaveLength(1);
  const [sessionId, tokenRef] = members[0]!.split(' ') as [string, string];
  await ctx.shared.addToSets([`bcl:sid:${sid}`], members[0]!, 3600);
  return { tokens: (await ctx.vault.read(tokenRef))!, sid, sessionId, tokenRef };
}

/** A logout token issued by the real AS's own code (as its back-channel logout sends). */
async function logoutToken(
  provider: Provider,
  claims: { sub: string; sid?: string },
  tweak?: (token: InstanceType<Provider['IdToken']>) => void,
): Promise<string> {
  const client = await provider.Client.find('basic-client');
  const token = new provider.IdToken({ sub: claims.sub }, { client: client!, ctx: undefined as never });
  (token as unknown as { mask: unknown }).mask = { sub: null };
  token.set('events', { 'http://schemas.openid.net/event/backchannel-logout': {} });
  token.set('jti', randomUUID());
  if (claims.sid) token.set('sid', claims.sid);
  tweak?.(token);
  return token.issue({ use: 'logout' });
}

async function postLogout(
  url: string,
  token: string,
): Promise<{ status: number; cacheControl: unknown; body: string }> {
  const res = await http(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ logout_token: token }).toString(),
  });
  return { status: res.statusCode, cacheControl: res.headers['cache-control'], body: await res.body.text() };
}

/** A GET with the path sent exactly as given (a browser or URL parser would resolve dot segments first). */
function rawGet(
  base: string,
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    nodeRequest({ host: hostname, port, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res
        .on('data', (c: Buffer) => chunks.push(c))
        .on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString() }));
    })
      .on('error', reject)
      .end();
  });
}

let api: Awaited<ReturnType<typeof startApi>>;
beforeAll(async () => {
  api = await startApi();
});
afterAll(async () => {
  await new Promise((resolve) => api.server.close(resolve));
});

describe('accessToken() on one instance', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      buildApp: buildApp(api.url) as never,
      overrides: { refreshSkewSeconds: SKEW },
      as: { accessTokenTtl: TTL, rotateRefreshTokens: true },
    });
  });
  afterAll(() => stack.close());

  it('refreshes once for twenty concurrent requests of one session, and stores the rotated refresh token', async () => {
    const browser = stack.browser();
    await browser.login(stack.appUrl);
    const before = await vaultTokens(stack.middleware(), browser, stack.appUrl);
    const count = refreshes(stack);
    expect((await browser.navigate(`${stack.appUrl}/call`)).body).toContain(sha(before.tokens.accessToken)); // fresh: no refresh
    expect(refreshes(stack)).toBe(count);
    await untilRefreshDue(); // due, not yet expired: refreshed before expiry
    expect(before.tokens.expiresAtSeconds! * 1000).toBeGreaterThan(Date.now());
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => browser.navigate(`${stack.appUrl}/call`)),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
    expect(refreshes(stack) - count).toBe(1);
    const after = await vaultTokens(stack.middleware(), browser, stack.appUrl);
    expect(new Set(answers.map((a) => (JSON.parse(a.body) as { token: string }).token))).toEqual(
      new Set([sha(after.tokens.accessToken)]),
    );
    expect(after.tokens.accessToken).not.toBe(before.tokens.accessToken);
    expect(after.tokens.refreshToken).toBeDefined();
    expect(after.tokens.refreshToken).not.toBe(before.tokens.refreshToken); // rotated and stored
    // The rotated token works: the next refresh succeeds with it.
    await untilRefreshDue();
    expect((await browser.navigate(`${stack.appUrl}/call`)).status).toBe(200);
    expect(refreshes(stack) - count).toBe(2);
    const refreshForm = stack.record.filter((r) => r.endpoint === 'token').at(-1)!;
    expect(refreshForm.authorization).toMatch(/^Basic /); // the same client authentication
    expect(refreshForm.body.refresh_token).toBe(after.tokens.refreshToken);
  });

  it('ends the session on invalid_grant: 401 login_required, and the guard asks for a login again', async () => {
    const browser = stack.browser();
    await browser.login(stack.appUrl);
    const { tokens } = await vaultTokens(stack.middleware(), browser, stack.appUrl);
    const stored = await stack.provider.RefreshToken.find(tokens.refreshToken!);
    await stored!.destroy(); // revoked at the AS
    await untilRefreshDue();
    const call = await browser.navigate(`${stack.appUrl}/call`);
    expect(call.status).toBe(401);
    expect(JSON.parse(call.body)).toEqual({ error: 'login_required' });
    expect((await browser.navigate(`${stack.appUrl}/me`)).status).toBe(401);
    const profile = await browser.navigate(`${stack.appUrl}/profile`);
    expect(profile.status).toBe(303);
    expect(profile.location).toBe(`${stack.appUrl}/login?returnTo=%2Fprofile`);
  });

  it('serves /me as the session endpoint: claims, expiry, logout URL, and no token', async () => {
    const browser = stack.browser();
    const before = Math.floor(Date.now() / 1000);
    await browser.login(stack.appUrl);
    const me = await browser.navigate(`${stack.appUrl}/me`);
    const body = JSON.parse(me.body) as {
      claims: Record<string, unknown>;
      session: { loggedInAt: number; expiresAt: number; absoluteExpiresAt: number };
      logoutUrl: string;
    };
    expect(body.claims.sub).toBe('alice');
    expect(body.claims.nonce).toBeUndefined();
    expect(body.logoutUrl).toBe('/logout');
    expect(body.session.loggedInAt).toBeGreaterThanOrEqual(before);
    expect(body.session.absoluteExpiresAt).toBe(body.session.loggedInAt + 28_800);
    expect(body.session.expiresAt).toBeGreaterThanOrEqual(before + 1_800);
    expect(body.session.expiresAt).toBeLessThanOrEqual(body.session.absoluteExpiresAt);
    const { tokens } = await vaultTokens(stack.middleware(), browser, stack.appUrl);
    for (const token of [tokens.accessToken, tokens.refreshToken!, tokens.idToken])
      expect(me.body).not.toContain(token);
    expect(stack.record.some((r) => r.endpoint === 'userinfo')).toBe(false); // fetchUserinfo is off by default
  });
});

describe('userinfo at login', () => {
  it('fetches the userinfo endpoint with the new access token and keeps its claims', async () => {
    const stack = await startStack({
      buildApp: buildApp(api.url) as never,
      overrides: { fetchUserinfo: true },
    });
    try {
      const browser = stack.browser();
      await browser.login(stack.appUrl, { user: 'frank' });
      const me = JSON.parse((await browser.navigate(`${stack.appUrl}/me`)).body) as {
        claims: Record<string, unknown>;
      };
      expect(me.claims).toMatchObject({ sub: 'frank', email: 'frank@example.test', name: 'Frank Example' });
      const { tokens } = await vaultTokens(stack.middleware(), browser, stack.appUrl);
      const fetched = stack.record.filter((r) => r.endpoint === 'userinfo');
      expect(fetched.map((r) => [r.method, r.authorization, r.status])).toEqual([
        ['GET', `Bearer ${tokens.accessToken}`, 200],
      ]);
    } finally {
      await stack.close();
    }
  });
});

describe('apiProxy()', () => {
  let stack: Stack;
  let browser: Browser;
  beforeAll(async () => {
    stack = await startStack({ buildApp: buildApp(api.url) as never });
    browser = stack.browser();
    await browser.login(stack.appUrl);
  });
  afterAll(() => stack.close());

  it('refuses calls without the anti-forgery header before anything reaches the API', async () => {
    const before = api.seen.length;
    const res = await browser.request(`${stack.appUrl}/api/things`, {
      headers: { accept: 'application/json' },
    });
    expect(res.status).toBe(403);
    expect((JSON.parse(res.body) as { error: string }).error).toBe('csrf_rejected');
    const cross = await browser.request(`${stack.appUrl}/same-origin-api/things`, {
      method: 'POST',
      initiator: 'http://evil.example',
      body: 'a=1',
    });
    expect(cross.status).toBe(403);
    expect(api.seen.length).toBe(before);
  });

  it('attaches the access token, forwards path, query and body, and never leaks the token or cookies', async () => {
    const before = api.seen.length;
    const res = await browser.request(`${stack.appUrl}/api/things/1?x=%2F1`, {
      method: 'POST',
      body: 'a=1&b=2',
      headers: { 'x-csrf': '1', accept: 'application/json' },
      initiator: stack.appUrl,
    });
    expect(res.status).toBe(200);
    const hit = api.seen[before]!;
    const { tokens } = await vaultTokens(stack.middleware(), browser, stack.appUrl);
    expect(hit.headers.authorization).toBe(`Bearer ${tokens.accessToken}`);
    expect(hit.method).toBe('POST');
    expect(hit.url).toBe('/v1/things/1?x=%2F1');
    expect(hit.body).toBe('a=1&b=2');
    expect(hit.headers.cookie).toBeUndefined();
    expect(hit.headers['x-csrf']).toBeUndefined();
    expect(res.headers['set-cookie']).toBeUndefined();
    const everything = browser.seen
      .map((hop) => `${hop.url}${JSON.stringify(hop.headers)}${hop.body}`)
      .join('\n');
    expect(everything).not.toContain(tokens.accessToken);
    const same = await browser.request(`${stack.appUrl}/same-origin-api/ok`, {
      method: 'POST',
      body: 'c=3',
      initiator: stack.appUrl,
    });
    expect(same.status).toBe(200);
  });

  it('streams a large request body with its length, and answers 502/504 when the API is down or slow', async () => {
    const before = api.seen.length;
    const big = `data=${'x'.repeat(300_000)}`;
    const res = await browser.request(`${stack.appUrl}/api/upload`, {
      method: 'POST',
      body: big,
      headers: { 'x-csrf': '1', accept: 'application/json' },
      initiator: stack.appUrl,
    });
    expect(res.status).toBe(200);
    expect(api.seen[before]!.body).toBe(big);
    expect(api.seen[before]!.headers['content-length']).toBe(String(Buffer.byteLength(big)));
    const slow = await browser.request(`${stack.appUrl}/impatient-api/slow`, {
      headers: { 'x-csrf': '1', accept: 'application/json' },
    });
    expect([slow.status, (JSON.parse(slow.body) as { error: string }).error]).toEqual([504, 'api_timeout']);
    const dead = await browser.request(`${stack.appUrl}/dead-api/x`, {
      headers: { 'x-csrf': '1', accept: 'application/json' },
    });
    expect([dead.status, (JSON.parse(dead.body) as { error: string }).error]).toEqual([
      502,
      'api_unreachable',
    ]);
    for (const hop of [slow, dead]) expect(hop.headers['cache-control']).toBe('no-store');
    // still serving
    expect(
      (
        await browser.request(`${stack.appUrl}/api/ok`, {
          headers: { 'x-csrf': '1', accept: 'application/json' },
        })
      ).status,
    ).toBe(200);
  });

  it('keeps paths under the target and answers anonymous callers 401', async () => {
    const before = api.seen.length;
    const cookie = browser.jar.header(new URL(stack.appUrl), { site: 'same-origin', safeTopLevel: true })!;
    for (const path of ['/api/%2e%2e/admin', '/api/..%2Fadmin', '/api/%2E%2E/%2e%2e/x', '/api/a/../../x']) {
      const res = await rawGet(stack.appUrl, path, { cookie, 'x-csrf': '1', accept: 'application/json' });
      if (res.status === 200) expect((JSON.parse(res.body) as { path: string }).path).toMatch(/^\/v1\//);
      else expect([400, 404]).toContain(res.status);
    }
    expect(
      (await rawGet(stack.appUrl, '/api/%2e%2e/admin', { cookie, 'x-csrf': '1', accept: 'application/json' }))
        .status,
    ).toBe(400);
    const anonymous = await stack
      .browser()
      .request(`${stack.appUrl}/api/things`, { headers: { 'x-csrf': '1', accept: 'application/json' } });
    expect(anonymous.status).toBe(401);
    expect(api.seen.slice(before).every((hit) => hit.url.startsWith('/v1/'))).toBe(true);
  });
});

describe('back-channel logout (one instance)', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ buildApp: buildApp(api.url) as never });
  });
  afterAll(() => stack.close());

  it('ends the session when the AS sends a logout token for its sid', async () => {
    const browser = stack.browser();
    await browser.login(stack.appUrl);
    const { sid, tokenRef } = await vaultTokens(stack.middleware(), browser, stack.appUrl);
    const client = await stack.provider.Client.find('basic-client');
    await (
      client as unknown as { backchannelLogout(sub: string, sid: string): Promise<void> }
    ).backchannelLogout('alice', sid); // the AS's own call
    expect((await browser.navigate(`${stack.appUrl}/me`)).status).toBe(401);
    expect(await contextOf(stack.middleware()).vault.read(tokenRef)).toBeUndefined();
  });

  it('answers 200 no-store, rejects a replayed token, and ends only the sessions named', async () => {
    const [a, b] = [stack.browser(), stack.browser()];
    await a.login(stack.appUrl);
    await b.login(stack.appUrl, { user: 'bob' });
    const { sid } = await vaultTokens(stack.middleware(), a, stack.appUrl);
    const token = await logoutToken(stack.provider, { sub: 'alice', sid });
    const first = await postLogout(`${stack.appUrl}/backchannel-logout`, token);
    expect(first.status).toBe(200);
    expect(first.cacheControl).toBe('no-store');
    expect((await a.navigate(`${stack.appUrl}/me`)).status).toBe(401);
    expect((await b.navigate(`${stack.appUrl}/me`)).status).toBe(200);
    const replay = await postLogout(`${stack.appUrl}/backchannel-logout`, token);
    expect(replay.status).toBe(400);
    expect((JSON.parse(replay.body) as { error: string }).error).toBe('logout_token_invalid');
  });

  it('ends every session of a sub when the token has no sid', async () => {
    const [a, b] = [stack.browser(), stack.browser()];
    await a.login(stack.appUrl, { user: 'carol' });
    await b.login(stack.appUrl, { user: 'carol' });
    expect(
      (
        await postLogout(
          `${stack.appUrl}/backchannel-logout`,
          await logoutToken(stack.provider, { sub: 'carol' }),
        )
      ).status,
    ).toBe(200);
    expect((await a.navigate(`${stack.appUrl}/me`)).status).toBe(401);
    expect((await b.navigate(`${stack.appUrl}/me`)).status).toBe(401);
  });

  it.each([
    [
      'a tampered signature',
      async (p: Provider) => {
        const t = await logoutToken(p, { sub: 'dave' });
        return `${t.slice(0, -4)}AAAA`;
      },
    ],
    ['a nonce', (p: Provider) => logoutToken(p, { sub: 'dave' }, (t) => t.set('nonce', 'n'))],
    [
      'no logout event',
      (p: Provider) => logoutToken(p, { sub: 'dave' }, (t) => t.set('events', { other: {} })),
    ],
    ['neither sid nor sub', (p: Provider) => logoutToken(p, { sub: '' })],
    [
      'an ID token instead',
      async (p: Provider) => {
        const client = await p.Client.find('basic-client');
        const t = new p.IdToken({ sub: 'dave' }, { client: client!, ctx: undefined as never });
        t.set('nonce', 'x');
        return t.issue({ use: 'idtoken' });
      },
    ],
    ['garbage', () => Promise.resolve('not.a.jwt')],
  ])('rejects a logout token with %s (400) and keeps the session', async (_name, make) => {
    const browser = stack.browser();
    await browser.login(stack.appUrl, { user: 'dave' });
    const res = await postLogout(`${stack.appUrl}/backchannel-logout`, await make(stack.provider));
    expect(res.status).toBe(400);
    expect((JSON.parse(res.body) as { error: string }).error).toBe('logout_token_invalid');
    expect((await browser.navigate(`${stack.appUrl}/me`)).status).toBe(200);
  });

  it('rejects a request without a form body', async () => {
    const res = await http(`${stack.appUrl}/backchannel-logout`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(res.statusCode).toBe(400);
    expect(((await res.body.json()) as { error: string }).error).toBe('logout_token_invalid');
  });
});

describe('two instances sharing Redis', () => {
  let redis: TestRedis;
  let stack: Stack;
  let second: Listening;
  let secondApp: express.Express;
  const onSecond = (url: string): string => url.replace(stack.appUrl, second.url);
  beforeAll(async () => {
    redis = await startRedis();
    stack = await startStack({
      buildApp: buildApp(api.url) as never,
      overrides: { redisUrl: redis.url, refreshSkewSeconds: SKEW },
      as: { accessTokenTtl: TTL, rotateRefreshTokens: true },
    });
    secondApp = buildApp(api.url)(stack.options);
    second = await listen(0, '127.0.0.1', secondApp);
    await Promise.all([
      stack.middleware().ready(),
      (secondApp.locals[PAR_LOGIN_LOCAL] as ParLoginMiddleware).ready(),
    ]);
  });
  afterAll(async () => {
    await second.close();
    await (secondApp.locals[PAR_LOGIN_LOCAL] as ParLoginMiddleware).close();
    await stack.close();
    await redis.close();
  });

  it('refreshes once when both instances race for the same session', async () => {
    const browser = stack.browser();
    await browser.login(stack.appUrl);
    await untilRefreshDue();
    const count = refreshes(stack);
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        browser.navigate(i % 2 ? `${stack.appUrl}/call` : onSecond(`${stack.appUrl}/call`)),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
    expect(refreshes(stack) - count).toBe(1);
    expect(new Set(answers.map((a) => a.body)).size).toBe(1);
  });

  it('ends on both instances a session named by a logout token sent to either', async () => {
    const [a, b] = [stack.browser(), stack.browser()];
    await a.login(stack.appUrl, { user: 'erin' });
    await b.login(second.url, { user: 'erin' });
    expect((await a.navigate(onSecond(`${stack.appUrl}/me`))).status).toBe(200);
    expect((await b.navigate(`${stack.appUrl}/me`)).status).toBe(200);
    const token = await logoutToken(stack.provider, { sub: 'erin' });
    expect((await postLogout(`${second.url}/backchannel-logout`, token)).status).toBe(200);
    for (const url of [`${stack.appUrl}/me`, `${second.url}/me`]) {
      expect((await a.navigate(url)).status).toBe(401);
      expect((await b.navigate(url)).status).toBe(401);
    }
    expect((await postLogout(`${stack.appUrl}/backchannel-logout`, token)).status).toBe(400); // replay on the other instance
  });
});
