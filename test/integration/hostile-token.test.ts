/**
 * A hostile AS at the token endpoint and in the ID token, driven end to end: the browser walks
 * /login → the AS's authorization endpoint → /callback, and the AS misbehaves in the exchange or
 * signs a bad ID token. Every case ends in a coded 502/504, consumes the state (a replay is
 * `state_used`), logs nobody in, and leaves the app serving. The unit tests in id-token.test.ts
 * check the validator alone; here the same attacks go through the middleware and a real JWKS fetch.
 */
import { describe, expect, it } from '@jest/globals';
import type { JWTPayload } from 'jose';
import type { ParLoginOptions } from '../../src/index.js';
import type { Browser, Hop } from '../helpers/browser.js';
import type { IdTokenScript, Misbehaviour, Script } from '../helpers/hostile-as.js';
import {
  expectCleanFailure,
  FETCH_HEADERS,
  refusedUrl,
  useHostileAs,
  walkToCallback,
  without,
  withField,
  type HostileApp,
} from '../helpers/hostile-stack.js';

const fixture = useHostileAs();

const now = (): number => Math.floor(Date.now() / 1000);

/** Start an app, walk a login to the callback and deliver it as the browser would. */
async function deliverCallback(
  overrides: Partial<ParLoginOptions> = {},
): Promise<{ running: HostileApp; browser: Browser; callbackUrl: string; hop: Hop; ms: number }> {
  const app = await fixture.startApp(overrides);
  const browser = app.browser();
  const callbackUrl = await walkToCallback(app, browser, '/profile');
  const started = Date.now();
  const hop = await browser.navigate(callbackUrl);
  return { running: app, browser, callbackUrl, hop, ms: Date.now() - started };
}

/** The failure is clean, and the callback cannot be replayed into a login. */
async function expectFailedCallback(
  running: HostileApp,
  browser: Browser,
  callbackUrl: string,
  hop: Hop,
  code: string,
  status: number,
): Promise<void> {
  await expectCleanFailure(running, browser, hop, code, status);
  expect(hop.headers['referrer-policy']).toBe('no-referrer');
  const replay = await browser.navigate(callbackUrl);
  await expectCleanFailure(running, browser, replay, 'state_used', 400);
}

describe('a hostile token endpoint', () => {
  it.each<[string, string, Script]>([
    [
      'invalid_grant',
      'token_error',
      { status: 400, body: { error: 'invalid_grant', error_description: 'code already used' } },
    ],
    [
      'invalid_client',
      'token_error',
      { status: 401, body: { error: 'invalid_client' }, headers: { 'www-authenticate': 'Basic' } },
    ],
    ['a 500', 'token_error', { status: 500, body: { error: 'server_error' } }],
    [
      'a 503 HTML page',
      'token_error',
      { status: 503, headers: { 'content-type': 'text/html' }, body: '<h1>Bad gateway</h1>' },
    ],
    ['a 200 that is not JSON', 'token_error', { body: 'access_token=abc&token_type=Bearer' }],
    ['a 200 with a JSON array', 'token_error', { body: [] }],
    ['a 201 instead of 200', 'token_error', { status: 201 }],
    ['no id_token', 'token_error', { body: without('id_token') }],
    ['an empty id_token', 'token_error', { body: withField('id_token', '') }],
    ['a numeric id_token', 'token_error', { body: withField('id_token', 12345) }],
    ['no access_token', 'token_error', { body: without('access_token') }],
    ['a token_type other than Bearer', 'token_error', { body: withField('token_type', 'mac') }],
    ['a negative expires_in', 'token_error', { body: withField('expires_in', -1) }],
    ['a numeric refresh_token', 'token_error', { body: withField('refresh_token', 7) }],
    ['a redirect (not followed)', 'token_error', () => ({ redirectTo: `${fixture.as.issuer}/stolen-token` })],
    ['an id_token that is not a JWT', 'id_token_invalid', { body: withField('id_token', 'not-a-jwt') }],
    ['an id_token of five parts (a JWE)', 'id_token_invalid', { body: withField('id_token', 'a.b.c.d.e') }],
  ])('answers %s with %s, and logs nobody in', async (_name, code, misbehaviour) => {
    fixture.as.script.token = misbehaviour;
    const { running, browser, callbackUrl, hop } = await deliverCallback();
    await expectFailedCallback(running, browser, callbackUrl, hop, code, 502);
    expect(fixture.as.count('other')).toBe(0);
  });

  it.each<[string, string, number, Misbehaviour | 'refused']>([
    ['a body larger than maxResponseBytes', 'as_bad_response', 502, { hugeBytes: 600_000 }],
    ['a response that never finishes', 'as_timeout', 504, { hang: 'body' }],
    ['no response at all', 'as_timeout', 504, { hang: 'silent' }],
    ['a dropped connection', 'as_unreachable', 502, { destroy: true }],
    ['a refused connection', 'as_unreachable', 502, 'refused'],
  ])('answers %s with %s (%s) within httpTimeoutMs', async (_name, code, status, misbehaviour) => {
    if (misbehaviour === 'refused')
      fixture.as.script.discovery = { body: withField('token_endpoint', await refusedUrl('/token')) };
    else fixture.as.script.token = misbehaviour;
    const { running, browser, callbackUrl, hop, ms } = await deliverCallback({ httpTimeoutMs: 400 });
    await expectFailedCallback(running, browser, callbackUrl, hop, code, status);
    expect(ms).toBeLessThan(1_400);
  });
});

describe('a hostile ID token', () => {
  const cases: Array<[string, IdTokenScript | (() => IdTokenScript)]> = [
    ['unsigned (alg none)', { signer: 'none' }],
    ['HS256 keyed with the client secret', { signer: 'client-secret' }],
    ['signed by an unknown key', { signer: 'stranger' }],
    [
      'signed by an unknown key that claims the published kid',
      () => ({ signer: 'stranger', header: { kid: fixture.as.kid } }),
    ],
    ['with a wrong iss', { claims: (c) => ({ ...c, iss: 'https://evil.example' }) }],
    ['with the issuer plus a trailing slash', { claims: (c) => ({ ...c, iss: `${String(c.iss)}/` }) }],
    ['with a wrong aud', { claims: (c) => ({ ...c, aud: 'another-client' }) }],
    [
      'with an extra aud and no azp',
      { claims: (c) => ({ ...c, aud: [fixture.as.clientId, 'another-client'] }) },
    ],
    [
      'with an azp of another client',
      { claims: (c) => ({ ...c, aud: [fixture.as.clientId, 'another-client'], azp: 'another-client' }) },
    ],
    ['expired beyond the clock tolerance', { claims: (c) => ({ ...c, exp: now() - 60 }) }],
    [
      'issued in the future beyond the clock tolerance',
      { claims: (c) => ({ ...c, iat: now() + 120, exp: now() + 600 }) },
    ],
    ['issued an hour ago', { claims: (c) => ({ ...c, iat: now() - 3600 }) }],
    ['with a wrong nonce', { claims: (c) => ({ ...c, nonce: 'guessed-nonce' }) }],
    ['without nonce', { claims: (c) => ({ ...c, nonce: undefined }) }],
    ['without sub', { claims: (c) => ({ ...c, sub: undefined }) }],
    ['with an empty sub', { claims: (c) => ({ ...c, sub: '' }) }],
    ['with a numeric sub', { claims: (c) => ({ ...c, sub: 42 }) as unknown as JWTPayload }],
    ['without exp', { claims: (c) => ({ ...c, exp: undefined }) }],
    [
      'with an unknown critical header',
      { header: { crit: ['urn:example:must-understand'], 'urn:example:must-understand': true } },
    ],
    ['whose payload is not a JSON object', { rawPayload: '["not", "claims"]' }],
    ['whose header names RS256 over an ES256 signature', { header: { alg: 'RS256' } }],
  ];
  it.each(cases)('refuses an ID token %s with id_token_invalid', async (_name, script) => {
    fixture.as.idToken = typeof script === 'function' ? script() : script;
    const { running, browser, callbackUrl, hop } = await deliverCallback();
    await expectFailedCallback(running, browser, callbackUrl, hop, 'id_token_invalid', 502);
    expect(fixture.as.issued).not.toHaveLength(0);
  });

  it.each<[string, IdTokenScript, string]>([
    ['120 s in the future', { claims: (c) => ({ ...c, iat: now() + 120, exp: now() + 600 }) }, 'behind'],
    ['expired 60 s ago', { claims: (c) => ({ ...c, exp: now() - 60 }) }, 'ahead of'],
    ['issued an hour ago', { claims: (c) => ({ ...c, iat: now() - 3600 }) }, 'ahead of'],
  ])(
    'names the clocks and OIDC_CLOCK_TOLERANCE in the log of an ID token %s',
    async (_name, script, direction) => {
      fixture.as.idToken = script;
      const { running, browser, callbackUrl, hop } = await deliverCallback();
      await expectFailedCallback(running, browser, callbackUrl, hop, 'id_token_invalid', 502);
      const logged = String(running.logs.find((r) => r.code === 'id_token_invalid')?.error);
      expect(logged).toContain(`this server's clock is ${direction} the AS's clock`);
      expect(logged).toContain('OIDC_CLOCK_TOLERANCE (now 30 s)');
    },
  );

  it('refuses the ID token of an earlier login replayed by the AS (nonce)', async () => {
    const app = await fixture.startApp();
    const first = app.browser();
    await first.follow(await walkToCallback(app, first));
    const earlier = fixture.as.issued.at(-1)!.idToken;
    fixture.as.script.token = { body: withField('id_token', earlier) };
    const browser = app.browser();
    const callbackUrl = await walkToCallback(app, browser);
    await expectFailedCallback(
      app,
      browser,
      callbackUrl,
      await browser.navigate(callbackUrl),
      'id_token_invalid',
      502,
    );
    expect(app.logs.find((r) => r.code === 'id_token_invalid')?.error).toMatch(/nonce/);
  });

  it.each<[string, IdTokenScript]>([
    ['expired within the clock tolerance', { claims: (c) => ({ ...c, exp: now() - 10 }) }],
    ['issued in the future within the clock tolerance', { claims: (c) => ({ ...c, iat: now() + 10 }) }],
    [
      'for several audiences with azp set to this client',
      { claims: (c) => ({ ...c, aud: [fixture.as.clientId, 'api'], azp: fixture.as.clientId }) },
    ],
  ])('accepts an ID token %s (the checks are not too strict)', async (_name, script) => {
    fixture.as.idToken = script;
    const { running, browser, hop } = await deliverCallback();
    expect(hop.status).toBe(303);
    expect(hop.location).toBe(`${running.url}/profile`);
    const me = await browser.request(`${running.url}/me`, { headers: FETCH_HEADERS });
    expect(me.status).toBe(200);
    expect((JSON.parse(me.body) as { claims: { sub?: unknown } }).claims.sub).toBe('mallory');
  });
});

it('had no unhandled rejection', async () => {
  await new Promise((resolve) => setTimeout(resolve, 20));
  expect(fixture.unhandledRejections).toEqual([]);
});
