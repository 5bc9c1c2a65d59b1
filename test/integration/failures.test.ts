/**
 * What the app does when the AS refuses, is down, is slow, or lacks PAR: a coded 4xx/5xx quickly,
 * no session, and the app keeps serving.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { createApp, PAR_LOGIN_LOCAL } from '../../sample-app/app.js';
import type { ParLoginMiddleware, ParLoginOptions } from '../../src/index.js';
import { startStack, type Stack } from '../helpers/stack.js';

const quiet = { warn: () => {}, error: () => {} };
const base: ParLoginOptions = {
  clientId: 'basic-client',
  clientSecret: 'some-secret',
  baseUrl: 'http://127.0.0.1:9',
  sessionSecret: 's'.repeat(32),
  logger: quiet,
};

/** A scripted AS for misbehaviour a real one does not produce. */
async function scriptedAs(
  handler: (url: string, issuer: string) => { status: number; body?: unknown } | 'hang',
): Promise<{ issuer: string; server: Server }> {
  const server = createServer((req, res) => {
    const answer = handler(req.url ?? '', issuer);
    if (answer === 'hang') return;
    res
      .writeHead(answer.status, { 'content-type': 'application/json' })
      .end(JSON.stringify(answer.body ?? {}));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { issuer, server };
}

function discovery(issuer: string, extra: Record<string, unknown> = {}) {
  return {
    issuer,
    authorization_endpoint: `${issuer}/auth`,
    token_endpoint: `${issuer}/token`,
    jwks_uri: `${issuer}/jwks`,
    pushed_authorization_request_endpoint: `${issuer}/par`,
    ...extra,
  };
}

async function closeApp(app: ReturnType<typeof createApp>): Promise<void> {
  await (app.locals[PAR_LOGIN_LOCAL] as ParLoginMiddleware).close();
}

describe('the AS refuses the push', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ overrides: { clientSecret: 'wrong-secret' } });
  });
  afterAll(() => stack.close());

  it('answers 502 par_error with the AS error and a hint, and logs no secret', async () => {
    const res = await request(stack.appUrl).get('/login').set('Accept', 'application/json');
    expect(res.status).toBe(502);
    expect(res.body).toMatchObject({ error: 'par_error' });
    expect(res.headers['set-cookie']).toBeUndefined();
    const html = await stack.browser().navigate(`${stack.appUrl}/login`);
    expect(html.status).toBe(502);
    expect(html.body).toContain('<code>invalid_client</code>');
    expect(stack.logs.at(-1)).toMatchObject({
      level: 'error',
      code: 'par_error',
      as_error: 'invalid_client',
      as_error_description: expect.any(String),
      hint: expect.stringContaining('OIDC_CLIENT_ID, OIDC_CLIENT_AUTH_METHOD'),
      doctor: expect.stringContaining('npx express-par-login doctor'),
    });
    expect(JSON.stringify(stack.logs)).not.toContain('wrong-secret');
    expect((await request(stack.appUrl).get('/')).status).toBe(200);
  });
});

describe('the AS refuses the request as malformed', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ overrides: { authorizationParams: { max_age: 'soon' } } });
  });
  afterAll(() => stack.close());

  it('answers 502 par_error keeping invalid_request', async () => {
    const res = await request(stack.appUrl).get('/login').set('Accept', 'application/json');
    expect(res.status).toBe(502);
    expect((res.body as { error: string }).error).toBe('par_error');
    expect(stack.record.at(-1)).toMatchObject({ endpoint: 'par', status: 400 });
    expect(stack.logs.at(-1)).toMatchObject({ code: 'par_error', as_error: 'invalid_request' });
  });
});

describe('the redirect URI is not registered at the AS', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      configureAs: (configuration) => {
        for (const client of configuration.clients ?? [])
          client.redirect_uris = ['http://127.0.0.1:9/elsewhere'];
      },
    });
  });
  afterAll(() => stack.close());

  it("logs the AS's own description and points to the doctor", async () => {
    const res = await request(stack.appUrl).get('/login').set('Accept', 'application/json');
    expect(res.status).toBe(502);
    expect(stack.logs.at(-1)).toMatchObject({
      code: 'par_error',
      as_error: 'invalid_request',
      as_error_description: expect.stringContaining('redirect_uri'),
      doctor: expect.stringContaining('npx express-par-login doctor'),
    });
  });
});

describe('the AS goes down during a login', () => {
  it('answers the callback with 502 and does not log in', async () => {
    const stack = await startStack();
    try {
      const browser = stack.browser();
      const { callbackUrl } = await browser.stepUntilCallback(stack.appUrl);
      await stack.stopAuthorizationServer();
      const res = await browser.navigate(callbackUrl);
      expect(res.status).toBe(502);
      expect(res.body).toContain('as_unreachable');
      expect((await browser.navigate(`${stack.appUrl}/me`)).status).toBe(401);
    } finally {
      await stack.close();
    }
  });
});

describe('the AS is down or slow', () => {
  it('answers 502 as_unreachable when nothing listens, and keeps serving', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const issuer = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise((resolve) => closed.close(resolve));
    const logs: Array<Record<string, unknown>> = [];
    const app = createApp({ ...base, issuer, logger: { warn: () => {}, error: (r) => void logs.push(r) } });
    const res = await request(app).get('/login').set('Accept', 'application/json');
    expect(res.status).toBe(502);
    expect(res.body).toMatchObject({ error: 'as_unreachable' });
    expect((res.body as { error_description: string }).error_description).not.toContain(issuer);
    expect(logs.at(-1)).toMatchObject({ code: 'as_unreachable' });
    expect(logs.at(-1)!.error).toContain(
      `to ${issuer}/.well-known/openid-configuration: connect ECONNREFUSED`,
    );
    expect((await request(app).get('/')).status).toBe(200);
    await closeApp(app);
  });

  it('answers 504 as_timeout within the configured timeout', async () => {
    const { issuer, server } = await scriptedAs(() => 'hang');
    const app = createApp({ ...base, issuer, httpTimeoutMs: 300 });
    const started = Date.now();
    const res = await request(app).get('/login').set('Accept', 'application/json');
    expect(res.status).toBe(504);
    expect(res.body).toMatchObject({ error: 'as_timeout' });
    expect(Date.now() - started).toBeLessThan(2000);
    await closeApp(app);
    server.closeAllConnections();
    server.close();
  });

  it('retries discovery after a failure', async () => {
    let down = true;
    const { issuer, server } = await scriptedAs((url, iss) => {
      if (url.startsWith('/.well-known'))
        return down ? { status: 503 } : { status: 200, body: discovery(iss) };
      if (url === '/par') return { status: 201, body: { request_uri: 'urn:x', expires_in: 60 } };
      return { status: 404 };
    });
    const app = createApp({ ...base, issuer });
    expect((await request(app).get('/login').set('Accept', 'application/json')).body).toMatchObject({
      error: 'discovery_failed',
    });
    down = false;
    const res = await request(app).get('/login');
    expect(res.status).toBe(303);
    expect(res.headers.location).toBe(`${issuer}/auth?client_id=basic-client&request_uri=urn%3Ax`);
    await closeApp(app);
    server.close();
  });
});

describe('PAR answers a real AS would not give', () => {
  it.each<[string, { status: number; body?: unknown }]>([
    ['200 instead of 201', { status: 200, body: { request_uri: 'urn:x', expires_in: 60 } }],
    ['no request_uri', { status: 201, body: { expires_in: 60 } }],
    ['expires_in zero', { status: 201, body: { request_uri: 'urn:x', expires_in: 0 } }],
    ['expires_in missing', { status: 201, body: { request_uri: 'urn:x' } }],
    ['a 500', { status: 500, body: { error: 'server_error' } }],
  ])('refuses %s with par_error', async (_name, answer) => {
    const { issuer, server } = await scriptedAs((url, iss) =>
      url.startsWith('/.well-known') ? { status: 200, body: discovery(iss) } : answer,
    );
    const app = createApp({ ...base, issuer });
    const res = await request(app).get('/login').set('Accept', 'application/json');
    expect(res.status).toBe(502);
    expect((res.body as { error: string }).error).toBe('par_error');
    expect(res.headers['set-cookie']).toBeUndefined();
    await closeApp(app);
    server.close();
  });

  it('refuses to log in without a PAR endpoint (no_par_endpoint)', async () => {
    const { issuer, server } = await scriptedAs((url, iss) => ({
      status: 200,
      body: discovery(iss, { pushed_authorization_request_endpoint: undefined }),
    }));
    const app = createApp({ ...base, issuer });
    const res = await request(app).get('/login').set('Accept', 'application/json');
    expect(res.status).toBe(502);
    expect((res.body as { error: string }).error).toBe('no_par_endpoint');
    await closeApp(app);
    server.close();
  });
});

describe('https deployments', () => {
  it('sets Secure, __Host- prefixed cookies behind a TLS-terminating proxy', async () => {
    // A scripted AS answers the push: the test AS only knows loopback redirect URIs.
    const { issuer: fakeIssuer, server } = await scriptedAs((url, iss) =>
      url.startsWith('/.well-known')
        ? { status: 200, body: discovery(iss) }
        : { status: 201, body: { request_uri: 'urn:x', expires_in: 60 } },
    );
    const app = createApp({ ...base, issuer: fakeIssuer, baseUrl: 'https://app.example' });
    app.set('trust proxy', 'loopback');
    app.get('/session-touch', (req, res) => {
      (req.session as unknown as Record<string, unknown>).touched = true;
      res.send('ok');
    });
    const res = await request(app).get('/login').set('X-Forwarded-Proto', 'https');
    expect(res.status).toBe(303);
    const cookies = ([] as string[]).concat(res.headers['set-cookie'] ?? []);
    // The login start sets only the login's own cookie (no session yet), with every protection.
    expect(cookies).toHaveLength(1);
    expect(cookies[0]).toMatch(
      /^__Host-parlogin-tx-[\w-]{10}=[\w.-]+; Max-Age=\d+; Path=\/; HttpOnly; Secure; SameSite=Lax$/,
    );
    // The session cookie an app route creates carries them too.
    const session = await request(app).get('/session-touch').set('X-Forwarded-Proto', 'https');
    const cookie = ([] as string[])
      .concat(session.headers['set-cookie'] ?? [])
      .find((c) => c.startsWith('__Host-parlogin='))!;
    expect(cookie).toMatch(/^__Host-parlogin=/);
    expect(cookie).toMatch(/; Secure/);
    expect(cookie).toMatch(/; HttpOnly/);
    expect(cookie).toMatch(/; SameSite=Lax/);
    await closeApp(app);
    server.close();
  });
});
