/**
 * A hostile or broken JWKS, and key rotation, through the whole login: the JWKS is fetched by the
 * middleware's back channel when the first ID token arrives, refetched once for an unknown `kid`
 * (at most once per `jwksCooldownSeconds` seconds), and a failed fetch is not cached.
 */
import { describe, expect, it } from '@jest/globals';
import type { JWK } from 'jose';
import type { Browser, Hop } from '../helpers/browser.js';
import type { Script } from '../helpers/hostile-as.js';
import {
  expectCleanFailure,
  FETCH_HEADERS,
  refusedUrl,
  useHostileAs,
  walkToCallback,
  type HostileApp,
} from '../helpers/hostile-stack.js';

const fixture = useHostileAs();

const mapKeys = (change: (key: JWK) => unknown) => (body: { keys: JWK[] }) => ({
  keys: body.keys.map(change),
});

/** Log a fresh browser in (or fail) at `running`: walk to the callback and deliver it. */
async function attempt(running: HostileApp): Promise<{ browser: Browser; hop: Hop }> {
  const browser = running.browser();
  const hop = await browser.navigate(await walkToCallback(running, browser, '/profile'));
  return { browser, hop };
}

async function expectLoggedIn(
  running: HostileApp,
  { browser, hop }: { browser: Browser; hop: Hop },
): Promise<void> {
  expect(hop.status).toBe(303);
  expect(hop.location).toBe(`${running.url}/profile`);
  expect((await browser.request(`${running.url}/me`, { headers: FETCH_HEADERS })).status).toBe(200);
}

describe('a hostile JWKS endpoint', () => {
  it.each<[string, string, number, Script | 'refused']>([
    ['a 500', 'jwks_error', 502, { status: 500, body: { error: 'server_error' } }],
    ['a 200 that is not JSON', 'jwks_error', 502, { body: '-----BEGIN PUBLIC KEY-----' }],
    ['a JSON array', 'jwks_error', 502, { body: [] }],
    ['keys that are not an array', 'jwks_error', 502, { body: { keys: 'all of them' } }],
    ['keys that are not objects', 'jwks_error', 502, { body: { keys: [null, 'key'] } }],
    // Regression: WebCrypto's DataError on importing these escaped as an internal error (500).
    [
      'the signing key with broken key material',
      'jwks_error',
      502,
      { body: mapKeys((k) => ({ ...k, x: 'AAAA', y: 'AAAA' })) },
    ],
    [
      'the signing key with a numeric coordinate',
      'jwks_error',
      502,
      { body: mapKeys((k) => ({ ...k, x: 5 })) },
    ],
    ['a private key as the signing key', 'jwks_error', 502, { body: mapKeys((k) => ({ ...k, d: 'AAAA' })) }],
    [
      'a redirect (not followed)',
      'jwks_error',
      502,
      () => ({ redirectTo: `${fixture.as.issuer}/stolen-jwks` }),
    ],
    ['an empty key set', 'id_token_invalid', 502, { body: { keys: [] } }],
    [
      'the signing key on another curve',
      'id_token_invalid',
      502,
      { body: mapKeys((k) => ({ ...k, crv: 'P-384' })) },
    ],
    [
      'the signing key marked for encryption',
      'id_token_invalid',
      502,
      { body: mapKeys((k) => ({ ...k, use: 'enc' })) },
    ],
    ['a huge key set', 'as_bad_response', 502, { hugeBytes: 1_000_000 }],
    ['a key set that never finishes', 'as_timeout', 504, { hang: 'body' }],
    ['a dropped connection', 'as_unreachable', 502, { destroy: true }],
    ['a refused connection', 'as_unreachable', 502, 'refused'],
  ])('answers %s with %s (%s)', async (_name, code, status, misbehaviour) => {
    if (misbehaviour === 'refused') {
      const closed = await refusedUrl('/jwks');
      fixture.as.script.discovery = { body: (d: Record<string, unknown>) => ({ ...d, jwks_uri: closed }) };
    } else {
      fixture.as.script.jwks = misbehaviour;
    }
    // Only the hanging key set needs a short deadline; a short one for the others lets a slow CI
    // machine turn a clean 500 into a timeout.
    const app = await fixture.startApp({ httpTimeoutMs: code === 'as_timeout' ? 300 : 5_000 });
    const { browser, hop } = await attempt(app);
    await expectCleanFailure(app, browser, hop, code, status);
    expect(fixture.as.count('other')).toBe(0);
  });

  it('refuses an HS256 token even when the JWKS publishes the client secret as a key', async () => {
    const secret = Buffer.from(fixture.as.clientSecret).toString('base64url');
    fixture.as.script.jwks = {
      body: (b: { keys: JWK[] }) => ({
        keys: [...b.keys, { kty: 'oct', k: secret, alg: 'HS256', kid: 'shared' }],
      }),
    };
    fixture.as.idToken = { signer: 'client-secret', header: { kid: 'shared' } };
    const app = await fixture.startApp();
    const { browser, hop } = await attempt(app);
    await expectCleanFailure(app, browser, hop, 'id_token_invalid', 502);
    expect(app.logs.find((r) => r.code === 'id_token_invalid')?.error).toMatch(/algorithm is not allowed/);
  });

  it('does not cache a failed fetch: the next login fetches again and succeeds', async () => {
    fixture.as.script.jwks = { status: 503 };
    const app = await fixture.startApp();
    const failed = await attempt(app);
    await expectCleanFailure(app, failed.browser, failed.hop, 'jwks_error', 502);
    delete fixture.as.script.jwks;
    await expectLoggedIn(app, await attempt(app));
    expect(fixture.as.count('jwks')).toBe(2);
  });

  it('fetches the JWKS once for concurrent callbacks on a cold app', async () => {
    const app = await fixture.startApp();
    const browsers = Array.from({ length: 5 }, () => app.browser());
    const callbacks: string[] = [];
    for (const browser of browsers) callbacks.push(await walkToCallback(app, browser));
    const hops = await Promise.all(browsers.map((browser, index) => browser.navigate(callbacks[index]!)));
    expect(hops.map((hop) => hop.status)).toEqual(Array(5).fill(303));
    expect(fixture.as.count('jwks')).toBe(1);
  });
});

describe('key rotation', () => {
  it('refetches the JWKS once for a new kid and then succeeds (jwksCooldownSeconds 0)', async () => {
    const app = await fixture.startApp({ jwksCooldownSeconds: 0 });
    await expectLoggedIn(app, await attempt(app));
    expect(fixture.as.count('jwks')).toBe(1);
    await fixture.as.rotateKey();
    await expectLoggedIn(app, await attempt(app));
    expect(fixture.as.count('jwks')).toBe(2);
    await expectLoggedIn(app, await attempt(app));
    expect(fixture.as.count('jwks')).toBe(2);
  });

  it('does not refetch within jwksCooldownSeconds seconds, and does after it', async () => {
    const app = await fixture.startApp({ jwksCooldownSeconds: 1 });
    await expectLoggedIn(app, await attempt(app));
    await fixture.as.rotateKey();
    const early = await attempt(app);
    await expectCleanFailure(app, early.browser, early.hop, 'id_token_invalid', 502);
    expect(fixture.as.count('jwks')).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 1_050));
    await expectLoggedIn(app, await attempt(app));
    expect(fixture.as.count('jwks')).toBe(2);
  });

  it('keeps the default cooldown of 30 s: a rotation right after the first fetch is refused', async () => {
    const app = await fixture.startApp();
    expect(app.middleware.config.jwksCooldownSeconds).toBe(30);
    await expectLoggedIn(app, await attempt(app));
    await fixture.as.rotateKey();
    const { browser, hop } = await attempt(app);
    await expectCleanFailure(app, browser, hop, 'id_token_invalid', 502);
    expect(fixture.as.count('jwks')).toBe(1);
  });

  it('refuses a token without kid while two keys are published (OIDC Core §10.1 then requires a kid)', async () => {
    const app = await fixture.startApp({ jwksCooldownSeconds: 0 });
    await fixture.as.rotateKey();
    fixture.as.idToken = { header: { kid: undefined } };
    const { browser, hop } = await attempt(app);
    await expectCleanFailure(app, browser, hop, 'id_token_invalid', 502);
  });

  it('refetches at most once per token signed with an unknown kid', async () => {
    const app = await fixture.startApp({ jwksCooldownSeconds: 0 });
    fixture.as.idToken = { signer: 'stranger' };
    for (let round = 1; round <= 3; round += 1) {
      const { browser, hop } = await attempt(app);
      await expectCleanFailure(app, browser, hop, 'id_token_invalid', 502);
      expect(fixture.as.count('jwks')).toBe(round + 1); // the first token also made the first fetch
    }
  });
});

it('had no unhandled rejection', async () => {
  await new Promise((resolve) => setTimeout(resolve, 20));
  expect(fixture.unhandledRejections).toEqual([]);
});
