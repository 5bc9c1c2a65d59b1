/**
 * A hostile AS at discovery and at the PAR endpoint: every misbehaviour ends in a coded 502/504
 * quickly, starts no session and no login, follows no redirect, and leaves the app (and its
 * connection pool and caches) working for the next login. Extends failures.test.ts, which covers
 * a refusing oidc-provider, an AS down at /login, a silent discovery and a few bad PAR answers.
 */
import { describe, expect, it } from '@jest/globals';
import type { ParLoginOptions } from '../../src/index.js';
import type { Browser } from '../helpers/browser.js';
import type { Misbehaviour } from '../helpers/hostile-as.js';
import {
  expectCleanFailure,
  expectLoggedOut,
  FETCH_HEADERS,
  refusedUrl,
  useHostileAs,
  walkToCallback,
  without,
  withField,
  type HostileApp,
  type JsonBody,
} from '../helpers/hostile-stack.js';

const fixture = useHostileAs();

const GENERIC_5XX = 'The sign-in service is not available right now. Please try again in a moment.';

/** Start an app and ask its /login as a fetch would; returns the answer and how long it took. */
async function fetchLogin(
  overrides: Partial<ParLoginOptions> = {},
): Promise<{ app: HostileApp; browser: Browser; hop: Awaited<ReturnType<Browser['request']>>; ms: number }> {
  const app = await fixture.startApp(overrides);
  const browser = app.browser();
  const started = Date.now();
  const hop = await browser.request(`${app.url}/login`, { headers: FETCH_HEADERS });
  return { app, browser, hop, ms: Date.now() - started };
}

/** After a failure, the same app and browser log in fine once the AS behaves. */
async function expectRecovery(running: HostileApp, browser: Browser): Promise<void> {
  fixture.as.reset();
  const done = await browser.follow(await walkToCallback(running, browser, '/profile'));
  expect(done.at(-1)).toMatchObject({ status: 200, url: `${running.url}/profile` });
  expect(done.at(-1)!.body).toContain('Mallory Hostile');
}

it('logs in against the hostile AS when it behaves (the control case)', async () => {
  const app = await fixture.startApp();
  const browser = app.browser();
  await expectRecovery(app, browser);
  const me = await browser.request(`${app.url}/me`, { headers: FETCH_HEADERS });
  expect((JSON.parse(me.body) as { claims: unknown }).claims).toMatchObject({
    sub: 'mallory',
    iss: fixture.as.issuer,
    aud: fixture.as.clientId,
  });
  expect(fixture.as.requests.map((r) => r.endpoint)).toEqual(['discovery', 'par', 'auth', 'token', 'jwks']);
});

describe('a hostile PAR endpoint', () => {
  it.each<[string, Misbehaviour]>([
    ['200 instead of 201', { status: 200 }],
    [
      'a 503 HTML page',
      {
        status: 503,
        headers: { 'content-type': 'text/html' },
        body: '<html><body>Maintenance</body></html>',
      },
    ],
    ['a 201 that is not JSON', { body: 'request_uri=urn:x&expires_in=60' }],
    ['a 201 with a JSON array', { body: [{ request_uri: 'urn:x', expires_in: 60 }] }],
    ['a 201 with JSON null', { body: 'null' }],
    ['JSON without request_uri', { body: without('request_uri') }],
    ['a numeric request_uri', { body: withField('request_uri', 42) }],
    ['an empty request_uri', { body: withField('request_uri', '') }],
    ['a request_uri of 3000 characters', { body: withField('request_uri', `urn:${'a'.repeat(3000)}`) }],
    ['expires_in missing', { body: without('expires_in') }],
    ['expires_in zero', { body: withField('expires_in', 0) }],
    ['expires_in negative', { body: withField('expires_in', -60) }],
    ['expires_in absurd (3601)', { body: withField('expires_in', 3601) }],
    ['expires_in not an integer', { body: withField('expires_in', 59.5) }],
    ['expires_in as a string', { body: withField('expires_in', '60') }],
    ['an error with a 201', { body: { error: 'invalid_request' } }],
  ])('refuses %s with par_error, without a session', async (_name, misbehaviour) => {
    fixture.as.script.par = misbehaviour;
    const { app: running, browser, hop } = await fetchLogin();
    await expectCleanFailure(running, browser, hop, 'par_error', 502);
    expect(hop.headers['set-cookie']).toBeUndefined();
    expect((JSON.parse(hop.body) as { error_description?: unknown }).error_description).toBe(GENERIC_5XX);
    expect(fixture.as.count('auth')).toBe(0);
    await expectRecovery(running, browser);
  });

  it.each<[string, string, number, Misbehaviour | 'refused', Partial<ParLoginOptions>]>([
    ['a body larger than maxResponseBytes', 'as_bad_response', 502, { hugeBytes: 4_000_000 }, {}],
    [
      'a body larger than a lowered maxResponseBytes',
      'as_bad_response',
      502,
      { hugeBytes: 2_000 },
      { maxResponseBytes: 1_024 },
    ],
    ['a response that never finishes', 'as_timeout', 504, { hang: 'body' }, { httpTimeoutMs: 300 }],
    ['no response at all', 'as_timeout', 504, { hang: 'silent' }, { httpTimeoutMs: 300 }],
    ['an answer slower than httpTimeoutMs', 'as_timeout', 504, { delayMs: 1_000 }, { httpTimeoutMs: 300 }],
    ['a dropped connection', 'as_unreachable', 502, { destroy: true }, {}],
    ['a refused connection', 'as_unreachable', 502, 'refused', {}],
  ])('answers %s with %s (%s)', async (_name, code, status, misbehaviour, overrides) => {
    if (misbehaviour === 'refused') {
      const closed = await refusedUrl('/par');
      fixture.as.script.discovery = { body: withField('pushed_authorization_request_endpoint', closed) };
    } else {
      fixture.as.script.par = misbehaviour;
    }
    const { app: running, browser, hop, ms } = await fetchLogin(overrides);
    await expectCleanFailure(running, browser, hop, code, status);
    expect(ms).toBeLessThan((running.options.httpTimeoutMs ?? 5_000) + 1_000);
    expect(hop.headers['set-cookie']).toBeUndefined();
    // Discovery succeeded and is cached, pointing at the closed port: only the other cases can recover.
    if (misbehaviour !== 'refused') await expectRecovery(running, browser);
  });

  it('does not follow a redirect (the target gets no request)', async () => {
    fixture.as.script.par = { redirectTo: `${fixture.as.issuer}/stolen-par` };
    const { app: running, browser, hop } = await fetchLogin();
    await expectCleanFailure(running, browser, hop, 'par_error', 502);
    expect(fixture.as.requests.filter((r) => r.url.startsWith('/stolen-par'))).toEqual([]);
    expect(fixture.as.count('other')).toBe(0);
  });

  it('sends the browser on with exactly client_id and request_uri, even for a request_uri that tries to add parameters', async () => {
    const sneaky = 'urn:x&client_id=evil&redirect_uri=https://evil.example/#frag\r\nSet-Cookie: stolen=1';
    fixture.as.script.par = { body: withField('request_uri', sneaky) };
    const { hop } = await fetchLogin();
    expect(hop.status).toBe(303);
    expect(String(hop.headers.location)).not.toMatch(/[\r\n]/);
    expect(hop.headers['set-cookie']?.toString()).not.toContain('stolen');
    const target = new URL(hop.location!);
    expect(target.origin + target.pathname).toBe(fixture.as.url('auth'));
    expect([...target.searchParams]).toEqual([
      ['client_id', fixture.as.clientId],
      ['request_uri', sneaky],
    ]);
  });
});

describe('a hostile discovery document', () => {
  it.each<[string, Misbehaviour]>([
    ['a 500', { status: 500, body: { error: 'server_error' } }],
    ['a 200 that is not JSON', { body: '<html>Welcome</html>' }],
    ['a JSON array', { body: [] }],
    ['another issuer', { body: withField('issuer', 'https://evil.example') }],
    [
      'the issuer with a trailing slash',
      { body: (d: JsonBody) => ({ ...d, issuer: `${String(d.issuer)}/` }) },
    ],
    ['no issuer', { body: without('issuer') }],
    ['no authorization_endpoint', { body: without('authorization_endpoint') }],
    ['no token_endpoint', { body: without('token_endpoint') }],
    ['no jwks_uri', { body: without('jwks_uri') }],
    [
      'a javascript: authorization_endpoint',
      { body: withField('authorization_endpoint', 'javascript:alert(1)') },
    ],
    [
      'an http token_endpoint off loopback',
      { body: withField('token_endpoint', 'http://evil.example/token') },
    ],
    ['a relative PAR endpoint', { body: withField('pushed_authorization_request_endpoint', '/par') }],
    [
      'a jwks_uri with a fragment',
      { body: (d: JsonBody) => ({ ...d, jwks_uri: `${String(d.jwks_uri)}#keys` }) },
    ],
    [
      'an endpoint that is not a string',
      { body: withField('token_endpoint', { url: 'https://evil.example' }) },
    ],
    ['a redirect', { redirectTo: 'https://evil.example/.well-known/openid-configuration' }],
  ])('refuses %s with discovery_failed, and pushes nothing', async (_name, misbehaviour) => {
    fixture.as.script.discovery = misbehaviour;
    const { app: running, browser, hop } = await fetchLogin();
    await expectCleanFailure(running, browser, hop, 'discovery_failed', 502);
    expect(fixture.as.count('par')).toBe(0);
    expect(hop.body).not.toContain('evil.example');
    await expectRecovery(running, browser);
  });

  it.each<[string, string, number, Misbehaviour]>([
    ['a huge document', 'as_bad_response', 502, { hugeBytes: 1_000_000 }],
    ['a document that never finishes', 'as_timeout', 504, { hang: 'body' }],
    ['a dropped connection', 'as_unreachable', 502, { destroy: true }],
  ])('answers %s with %s (%s)', async (_name, code, status, misbehaviour) => {
    fixture.as.script.discovery = misbehaviour;
    // Only the hanging document needs a short deadline; the others must not race it.
    const timesOut = code === 'as_timeout';
    const { app: running, browser, hop, ms } = await fetchLogin({ httpTimeoutMs: timesOut ? 300 : 5_000 });
    await expectCleanFailure(running, browser, hop, code, status);
    if (timesOut) expect(ms).toBeLessThan(1_300);
    await expectRecovery(running, browser);
  });

  it('fetches a failing discovery once for concurrent logins, and retries after', async () => {
    fixture.as.script.discovery = { delayMs: 150, status: 503 };
    const app = await fixture.startApp();
    const browsers = Array.from({ length: 8 }, () => app.browser());
    const hops = await Promise.all(
      browsers.map((b) => b.request(`${app.url}/login`, { headers: FETCH_HEADERS })),
    );
    expect(hops.map((h) => h.status)).toEqual(Array(8).fill(502));
    expect(fixture.as.count('discovery')).toBe(1);
    for (const [index, hop] of hops.entries())
      await expectCleanFailure(app, browsers[index]!, hop, 'discovery_failed', 502);
    await expectRecovery(app, browsers[0]!);
    expect(fixture.as.count('discovery')).toBe(1);
  });
});

describe('the browser side stays clean', () => {
  it('shows a browser navigation an escaped page for a hostile AS error, without the AS description', async () => {
    fixture.as.script.par = {
      status: 400,
      body: {
        error: '"><script>alert(1)</script>',
        error_description: '<img src=x onerror=alert(2)> internal detail',
      },
    };
    const app = await fixture.startApp();
    const browser = app.browser();
    const page = await browser.navigate(`${app.url}/login`);
    await expectCleanFailure(app, browser, page, 'par_error', 502);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.body).toContain('&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(page.body).not.toMatch(/<script|<img|internal detail/);
    await expectLoggedOut(app, browser);
  });
});

it('had no unhandled rejection', async () => {
  await new Promise((resolve) => setTimeout(resolve, 20));
  expect(fixture.unhandledRejections).toEqual([]);
});
