/**
 * The AS's RSA keys through the whole login (security review finding 10): an ID token signed with
 * an RSA key under 2048 bits, published in the AS's own JWKS, fails the callback as
 * `id_token_invalid`, logged with the key's size (RFC 7518 §3.3, FAPI 2.0 §5.4.1); the same token
 * signed with a 2048-bit key logs the user in. Keys are made at run time.
 */
import { describe, expect, it } from '@jest/globals';
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { decodeJwt, type JWK } from 'jose';
import type { JsonBody } from '../helpers/hostile-stack.js';
import { expectCleanFailure, FETCH_HEADERS, useHostileAs, walkToCallback } from '../helpers/hostile-stack.js';

const fixture = useHostileAs();

const encode = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/** An RS256 JWS made with node:crypto: jose refuses to sign with an RSA key under 2048 bits. */
function rs256(privateKey: KeyObject, kid: string, claims: unknown): string {
  const input = `${encode({ alg: 'RS256', kid })}.${encode(claims)}`;
  return `${input}.${sign('sha256', Buffer.from(input), privateKey).toString('base64url')}`;
}

/**
 * Script the AS to publish an RSA key of `bits` bits next to its own, to advertise RS256, and to
 * re-sign each ID token it issues (same claims, nonce included) with that key.
 */
function signIdTokensWithRsa(bits: number): void {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: bits });
  const kid = `rsa-${bits}`;
  const jwk: JWK = { ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' };
  const { as } = fixture;
  as.script.discovery = {
    body: (d: JsonBody) => ({ ...d, id_token_signing_alg_values_supported: ['RS256', 'ES256'] }),
  };
  as.script.jwks = { body: (b: { keys: JWK[] }) => ({ keys: [...b.keys, jwk] }) };
  as.script.token = {
    body: (b: JsonBody) => ({ ...b, id_token: rs256(privateKey, kid, decodeJwt(String(b.id_token))) }),
  };
}

describe("the AS's RSA signing keys", () => {
  it('refuse an ID token signed with a 1024-bit key (id_token_invalid, 502), naming the size', async () => {
    signIdTokensWithRsa(1024);
    const app = await fixture.startApp();
    const browser = app.browser();
    const hop = await browser.navigate(await walkToCallback(app, browser));
    await expectCleanFailure(app, browser, hop, 'id_token_invalid', 502);
    expect(app.logs.find((r) => r.code === 'id_token_invalid')?.error).toContain(
      'its key is an RSA key of 1024 bits, and at least 2048 are required',
    );
    expect(fixture.as.count('jwks')).toBe(1);
  });

  it('accept the same ID token signed with a 2048-bit key', async () => {
    signIdTokensWithRsa(2048);
    const app = await fixture.startApp();
    const browser = app.browser();
    const hop = await browser.navigate(await walkToCallback(app, browser, '/profile'));
    expect({ status: hop.status, location: hop.location }).toEqual({
      status: 303,
      location: `${app.url}/profile`,
    });
    expect((await browser.request(`${app.url}/me`, { headers: FETCH_HEADERS })).status).toBe(200);
  });
});
