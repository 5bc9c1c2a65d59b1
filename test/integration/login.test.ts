/**
 * The whole login against a real oidc-provider (PAR and PKCE required), walked by a cookie-keeping
 * browser through the AS's real login and consent forms.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import express from 'express';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import session from 'express-session';
import request from 'supertest';
import { parLogin, requireLogin, type ParLoginOptions } from '../../src/index.js';
import type { ParLoginSessionData } from '../../src/session/session.js';
import { contextOf, tokensOf } from '../helpers/tokens.js';
import { PAR_LOGIN_LOCAL } from '../../sample-app/app.js';
import { middlewareOf, pendingLoginsOf } from '../helpers/middleware.js';
import { backChannel, startStack, type Stack } from '../helpers/stack.js';

/** An app that mounts its own express-session, so the test can read the server-side sessions. */
function appWithStore(store: session.MemoryStore) {
  return (options: ParLoginOptions) => {
    const app = express();
    app.use(
      session({
        secret: options.sessionSecret!,
        store,
        name: 'app.sid',
        resave: false,
        saveUninitialized: false,
      }),
    );
    const auth = parLogin(options);
    app.locals[PAR_LOGIN_LOCAL] = auth;
    app.use(auth);
    app.get('/', (_req, res) => void res.send('home'));
    app.get('/visit', (req, res) => {
      (req.session as unknown as Record<string, unknown>).visited = true;
      res.send('visited');
    });
    app.get(
      '/profile',
      requireLogin(),
      (req, res) => void res.send(`hello ${String(req.auth.claims!.name)}`),
    );
    return app;
  };
}

function sessionsOf(store: session.MemoryStore): Promise<Array<{ parLogin?: ParLoginSessionData }>> {
  return new Promise((resolve, reject) =>
    store.all((err: Error | null, all) => (err ? reject(err) : resolve(Object.values(all ?? {})))),
  );
}

function cookieValue(setCookie: string | string[] | undefined, name: string): string | undefined {
  const list = Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : [];
  return list
    .find((c) => c.startsWith(`${name}=`))
    ?.split(';')[0]!
    .slice(name.length + 1);
}

describe.each(['client_secret_basic', 'private_key_jwt'] as const)('login with %s', (authMethod) => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ authMethod });
  });
  afterAll(() => stack.close());

  it('logs in through the AS and lands on returnTo, with /me before and after', async () => {
    const browser = stack.browser();
    expect((await browser.navigate(`${stack.appUrl}/me`)).status).toBe(401);
    const hops = await browser.login(stack.appUrl, { returnTo: '/profile' });
    const last = hops.at(-1)!;
    expect(last.url).toBe(`${stack.appUrl}/profile`);
    expect(last.status).toBe(200);
    expect(last.body).toContain('Alice Example');
    const me = await browser.request(`${stack.appUrl}/me`, {
      headers: { accept: 'application/json', 'sec-fetch-mode': 'cors' },
    });
    expect(me.status).toBe(200);
    const { claims } = JSON.parse(me.body) as { claims: Record<string, unknown> };
    expect(claims).toMatchObject({
      sub: 'alice',
      name: 'Alice Example',
      email: 'alice@example.test',
    });
    expect(claims.nonce).toBeUndefined();
  });

  it('authenticated the PAR and token requests with the configured method', async () => {
    const browser = stack.browser();
    const before = stack.record.length;
    await browser.login(stack.appUrl);
    const [par, token] = backChannel(stack.record.slice(before));
    expect(par).toMatchObject({ endpoint: 'par', status: 201 });
    expect(token).toMatchObject({ endpoint: 'token', status: 200 });
    for (const req of [par!, token!]) {
      if (authMethod === 'client_secret_basic') {
        expect(req.authorization).toMatch(/^Basic /);
        expect(Buffer.from(req.authorization!.slice(6), 'base64').toString()).toBe(
          `basic-client:${encodeURIComponent(stack.clientSecret)}`,
        );
        expect(req.body.client_assertion).toBeUndefined();
      } else {
        expect(req.authorization).toBeUndefined();
        expect(req.body.client_assertion_type).toBe('urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
        expect(typeof req.body.client_assertion).toBe('string');
      }
    }
    expect(par!.body.client_id).toBe(stack.options.clientId);
  });

  it('sends the browser to the AS with exactly client_id and request_uri', async () => {
    const browser = stack.browser();
    const login = await browser.navigate(`${stack.appUrl}/login?returnTo=/profile`);
    expect(login.status).toBe(303);
    expect(login.headers['cache-control']).toBe('no-store');
    const target = new URL(login.location!);
    expect(target.origin + target.pathname).toBe(`${stack.issuer}/auth`);
    expect([...target.searchParams.keys()].sort()).toEqual(['client_id', 'request_uri']);
    expect(target.searchParams.get('client_id')).toBe(stack.options.clientId);
    expect(target.searchParams.get('request_uri')).toMatch(/^urn:ietf:params:oauth:request_uri:/);
    await browser.login(stack.appUrl);
    for (const url of browser.asUrls.filter((u) => new URL(u).pathname === '/auth')) {
      expect([...new URL(url).searchParams.keys()].sort()).toEqual(['client_id', 'request_uri']);
    }
  });
});

describe('private_key_jwt with the endpoint URL as assertion audience', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ authMethod: 'private_key_jwt', overrides: { assertionAudience: 'endpoint' } });
  });
  afterAll(() => stack.close());

  it('logs in, each assertion addressed to the endpoint it was sent to', async () => {
    const before = stack.record.length;
    const hops = await stack.browser().login(stack.appUrl, { returnTo: '/profile' });
    expect(hops.at(-1)!.body).toContain('Alice Example');
    const [par, token] = backChannel(stack.record.slice(before));
    const audience = (assertion: unknown) =>
      (JSON.parse(Buffer.from(String(assertion).split('.')[1]!, 'base64url').toString()) as { aud: unknown })
        .aud;
    expect(audience(par!.body.client_assertion)).toBe(`${stack.issuer}/request`);
    expect(audience(token!.body.client_assertion)).toBe(`${stack.issuer}/token`);
  });
});

describe('login (basic client)', () => {
  let stack: Stack;
  const store = new session.MemoryStore();
  beforeAll(async () => {
    stack = await startStack({ buildApp: appWithStore(store) as never });
  });
  afterAll(() => stack.close());

  it('pushes a fresh state, nonce and S256 challenge on every login', async () => {
    const before = stack.record.length;
    const browser = stack.browser();
    await browser.navigate(`${stack.appUrl}/login`);
    await browser.navigate(`${stack.appUrl}/login`);
    await stack.browser().navigate(`${stack.appUrl}/login`);
    const pushes = backChannel(stack.record.slice(before)).map((r) => r.body);
    expect(pushes).toHaveLength(3);
    for (const body of pushes) {
      expect(body).toMatchObject({
        response_type: 'code',
        code_challenge_method: 'S256',
        redirect_uri: `${stack.appUrl}/callback`,
        scope: 'openid profile email',
      });
      expect(body.state).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(body.nonce).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(body.code_challenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
    }
    for (const name of ['state', 'nonce', 'code_challenge'])
      expect(new Set(pushes.map((b) => b[name])).size).toBe(3);
  });

  it('lets two tabs of one browser log in at once', async () => {
    const browser = stack.browser();
    const tabA = await browser.stepUntilCallback(stack.appUrl, { returnTo: '/a' });
    const tabB = await browser.stepUntilCallback(stack.appUrl, { returnTo: '/profile' });
    const doneA = await browser.follow(tabA.callbackUrl, { stopBefore: (u) => u.pathname === '/a' });
    expect(doneA.at(-1)!.location).toBe(`${stack.appUrl}/a`);
    const doneB = await browser.follow(tabB.callbackUrl);
    expect(doneB.at(-1)!.url).toBe(`${stack.appUrl}/profile`);
    expect(doneB.at(-1)!.body).toContain('hello Alice Example');
  });

  it('regenerates the session id at login and keeps tokens only on the server', async () => {
    const browser = stack.browser();
    // The app gave this browser a session before the login (the login start itself creates none).
    const visit = await browser.navigate(`${stack.appUrl}/visit`);
    const anonymousId = cookieValue(visit.headers['set-cookie'], 'app.sid');
    expect(anonymousId).toBeDefined();
    const login = await browser.navigate(`${stack.appUrl}/login`);
    expect(cookieValue(login.headers['set-cookie'], 'app.sid')).toBeUndefined();
    const { callbackUrl } = await browser.stepUntilCallback(stack.appUrl);
    const callback = await browser.navigate(callbackUrl);
    expect(callback.status).toBe(303);
    expect(callback.headers['referrer-policy']).toBe('no-referrer');
    const loggedInId = cookieValue(callback.headers['set-cookie'], 'app.sid');
    expect(loggedInId).toBeDefined();
    expect(loggedInId).not.toBe(anonymousId);

    await browser.follow(callback);
    await browser.navigate(`${stack.appUrl}/me`);
    const users = (await sessionsOf(store)).map((s) => s.parLogin?.user).filter((u) => u !== undefined);
    const tokens = await tokensOf(stack.middleware(), users);
    expect(tokens).toHaveLength(users.length);
    // The vault keeps the ID token without the payload the session's claims repeat (a session
    // store's JSON round trip in between), and gives it back whole.
    const kept = await contextOf(stack.middleware()).vault.read(users[0]!.tokenRef);
    expect(kept?.idToken).toMatch(/^[\w-]+\.~[\w-]{11}\.[\w-]+$/);
    expect(tokens[0]!.idToken.split('.')[1]).toBe(
      Buffer.from(JSON.stringify(users[0]!.claims)).toString('base64url'),
    );
    const secrets = tokens.flatMap((t) =>
      [t.accessToken, t.idToken, t.refreshToken].filter(Boolean),
    ) as string[];
    expect(secrets.length).toBeGreaterThan(0);
    const everything = browser.seen
      .map((hop) => `${hop.url}\n${JSON.stringify(hop.headers)}\n${hop.body}`)
      .join('\n');
    for (const secret of secrets) expect(everything).not.toContain(secret);
  });

  it('refuses tampered, unknown, replayed and state-less callbacks', async () => {
    const browser = stack.browser();
    const { callbackUrl } = await browser.stepUntilCallback(stack.appUrl);
    const tampered = new URL(callbackUrl);
    tampered.searchParams.set('state', `${tampered.searchParams.get('state')}x`);
    // As API requests: an anonymous navigation with a stale state starts a fresh login instead (stale-callback.test.ts).
    const api = { headers: { accept: 'application/json', 'sec-fetch-mode': 'cors' } };
    const bad = await browser.request(tampered.href, api);
    expect(bad.status).toBe(400);
    expect((JSON.parse(bad.body) as { error: string }).error).toBe('state_unknown');
    const stranger = await stack.browser().request(callbackUrl, api);
    expect(stranger.status).toBe(400);
    expect((JSON.parse(stranger.body) as { error_description: string }).error_description).toContain(
      'arrived without a session',
    );

    const first = await browser.navigate(callbackUrl);
    expect(first.status).toBe(303);
    const replay = await browser.navigate(callbackUrl);
    expect(replay.status).toBe(400);
    expect(replay.body).toContain('state_used');

    const noState = new URL(callbackUrl);
    noState.searchParams.delete('state');
    const missing = await request(stack.appUrl).get(noState.pathname + noState.search);
    expect(missing.status).toBe(400);
    expect(missing.body).toMatchObject({ error: 'state_missing' });
    const twice = await request(stack.appUrl).get(`${noState.pathname}?state=a&state=b`);
    expect(twice.body).toMatchObject({ error: 'invalid_request' });
  });

  it.each([
    ['a wrong iss', (u: URL) => u.searchParams.set('iss', 'https://evil.example'), 'iss_mismatch'],
    ['a missing iss', (u: URL) => u.searchParams.delete('iss'), 'iss_missing'],
  ])('refuses a callback with %s and does not log in', async (_name, change, code) => {
    const browser = stack.browser();
    const { callbackUrl } = await browser.stepUntilCallback(stack.appUrl);
    const url = new URL(callbackUrl);
    change(url);
    const res = await browser.navigate(url.href);
    expect(res.status).toBe(400);
    expect(res.body).toContain(code);
    expect((await browser.navigate(`${stack.appUrl}/me`)).status).toBe(401);
  });

  it('shows the AS error of an access_denied response, escaped', async () => {
    const browser = stack.browser();
    const { callbackUrl } = await browser.stepUntilCallback(stack.appUrl);
    const url = new URL(callbackUrl);
    url.searchParams.delete('code');
    url.searchParams.set('error', 'access_denied');
    url.searchParams.set('error_description', '<script>alert(1)</script>');
    const res = await browser.navigate(url.href);
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/text\/html/);
    expect(res.body).toContain('<code>access_denied</code>');
    expect(res.body).toContain('&lt;script&gt;');
    expect(res.body).not.toContain('<script>');
  });

  it.each([
    'https://evil.example/',
    '//evil.example',
    '/\\evil.example',
    'javascript:alert(1)',
    '/x\r\nSet-Cookie: a=b',
    'relative',
  ])('stores returnTo %j as /', async (returnTo) => {
    const browser = stack.browser();
    const res = await browser.navigate(`${stack.appUrl}/login?returnTo=${encodeURIComponent(returnTo)}`);
    expect(res.status).toBe(303);
    const pending = await pendingLoginsOf(middlewareOf(stack), [res.headers['set-cookie'] ?? []].flat());
    expect(pending.map((tx) => tx.returnTo)).toEqual(['/']);
  });

  it('ends up on a local returnTo after login', async () => {
    const hops = await stack.browser().login(stack.appUrl, { returnTo: '//evil.example/profile' });
    expect(hops.at(-1)!.url).toBe(`${stack.appUrl}/`);
  });
});

describe('guard, logout and cookies', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack.close());

  it('redirects HTML navigations into the login and answers 401 to API calls', async () => {
    const nav = await stack.browser().navigate(`${stack.appUrl}/profile?tab=1`);
    expect(nav.status).toBe(303);
    expect(nav.location).toBe(`${stack.appUrl}/login?returnTo=${encodeURIComponent('/profile?tab=1')}`);
    const api = await request(stack.appUrl).get('/profile').set('Accept', 'application/json');
    expect(api.status).toBe(401);
    expect(api.body).toEqual({ error: 'unauthenticated', error_description: 'Log in first.' });
    const fetchLike = await request(stack.appUrl)
      .get('/profile')
      .set('Accept', 'text/html')
      .set('Sec-Fetch-Mode', 'cors');
    expect(fetchLike.status).toBe(401);
  });

  it('regenerates its own session id when a logged-in browser logs in again, and ends the old session', async () => {
    const browser = stack.browser();
    await browser.login(stack.appUrl);
    const first = browser.jar.all().find((c) => c.name === 'parlogin')!.value;
    await browser.login(stack.appUrl);
    const second = browser.jar.all().find((c) => c.name === 'parlogin')!.value;
    expect(second).not.toBe(first);
    expect((await browser.navigate(`${stack.appUrl}/me`)).status).toBe(200);
    const old = await request(stack.appUrl)
      .get('/me')
      .set('Cookie', `parlogin=${first}`)
      .set('Accept', 'application/json');
    expect(old.status).toBe(401);
  });

  it('sets HttpOnly, SameSite=Lax login and session cookies without Secure on http', async () => {
    const browser = stack.browser();
    const login = await browser.navigate(`${stack.appUrl}/login`);
    const loginCookies = ([] as string[]).concat(login.headers['set-cookie'] ?? []);
    expect(loginCookies).toEqual([
      expect.stringMatching(/^parlogin-tx-[\w-]{10}=[\w.-]+; Max-Age=\d+; Path=\/; HttpOnly; SameSite=Lax$/),
    ]);
    const { callbackUrl } = await browser.stepUntilCallback(stack.appUrl);
    const res = await browser.navigate(callbackUrl);
    const cookie = ([] as string[])
      .concat(res.headers['set-cookie'] ?? [])
      .find((c) => c.startsWith('parlogin='))!;
    expect(cookie).toMatch(/; HttpOnly/);
    expect(cookie).toMatch(/; SameSite=Lax/);
    expect(cookie).toMatch(/; Path=\//);
    expect(cookie).not.toMatch(/Secure/);
    expect(cookie.split(';')[0]!.length).toBeLessThan(100);
  });

  it('does not log out on GET, refuses cross-site POSTs, and logs out on a same-origin POST', async () => {
    const browser = stack.browser();
    await browser.login(stack.appUrl);
    const page = await browser.navigate(`${stack.appUrl}/logout`);
    expect(page.status).toBe(200);
    expect(page.body).toContain('method="post"');
    expect((await browser.navigate(`${stack.appUrl}/me`)).status).toBe(200);

    const crossSite = await browser.request(`${stack.appUrl}/logout`, {
      method: 'POST',
      body: '',
      initiator: 'https://evil.example',
    });
    expect(crossSite.status).toBe(403);
    expect(crossSite.body).toContain('csrf_rejected');
    const noOrigin = await browser.request(`${stack.appUrl}/logout`, {
      method: 'POST',
      body: '',
      headers: { 'sec-fetch-site': null },
    });
    expect(noOrigin.status).toBe(403);
    expect((await browser.navigate(`${stack.appUrl}/me`)).status).toBe(200);

    const logout = await browser.submitForm(page.body, page.url);
    expect(logout.status).toBe(303);
    const endSession = new URL(logout.location!);
    expect(endSession.origin + endSession.pathname).toBe(`${stack.issuer}/session/end`);
    expect(endSession.searchParams.get('client_id')).toBe('basic-client');
    expect(endSession.searchParams.get('post_logout_redirect_uri')).toBe(`${stack.appUrl}/`);
    // The hint is the ID token the AS signed, byte for byte (the vault keeps it without its payload).
    const hint = endSession.searchParams.get('id_token_hint')!;
    const jwks = createRemoteJWKSet(new URL(`${stack.issuer}/jwks`));
    const { payload } = await jwtVerify(hint, jwks, { issuer: stack.issuer, audience: 'basic-client' });
    expect(payload.sub).toBe('alice');
    expect((await browser.navigate(`${stack.appUrl}/me`)).status).toBe(401);
    const hops = await browser.follow(logout);
    const confirm = hops.at(-1)!;
    expect(confirm.status).toBe(200); // the AS's confirmation: it accepted the hint
    expect(new URL(confirm.url).origin).toBe(stack.issuer);
    const done = await browser.follow(await browser.submitForm(confirm.body, confirm.url, { logout: 'yes' }));
    expect(done.at(-1)!.url).toBe(`${stack.appUrl}/`);
  });

  it('fails loudly when requireLogin() is used without parLogin()', async () => {
    const app = express();
    app.get('/x', requireLogin(), (_req, res) => void res.send('no'));
    app.use(
      (
        err: { code?: string; status?: number },
        _req: express.Request,
        res: express.Response,
        // eslint-disable-next-line @typescript-eslint/no-unused-vars -- Express knows an error handler by its four parameters
        _next: express.NextFunction,
      ) => void res.status(err.status ?? 500).json({ code: err.code }),
    );
    const written: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    process.stderr.write = (chunk: string) => written.push(chunk) > 0;
    let res: request.Response;
    try {
      res = await request(app).get('/x?q=1');
    } finally {
      process.stderr.write = write;
    }
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ code: 'not_mounted' });
    // A structured record on stderr, with a correlation id, like every other failure.
    const record = JSON.parse(written.join('')) as Record<string, unknown>;
    expect(record).toMatchObject({ level: 'error', code: 'not_mounted', path: '/x', id: expect.any(String) });
    expect(record.hint).toContain('Mount parLogin()');
  });
});
