/**
 * Algorithms and key sizes (security review finding 10): RSA keys under 2048 bits are refused for
 * the AS's tokens and for the client's own key (RFC 7518 §3.3, FAPI 2.0 §5.4.1), and logout tokens
 * are held to the profile's algorithms like ID tokens.
 */
import { describe, expect, it } from '@jest/globals';
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import type { BackChannel, BackChannelResponse } from '../../src/client/http.js';
import { validateIdToken } from '../../src/client/id-token.js';
import { createJwksResolver } from '../../src/client/jwks.js';
import { verifyLogoutToken } from '../../src/client/logout-token.js';
import { importSigningKey } from '../../src/crypto/signing-key.js';

const issuer = 'https://as.example';
const clientId = 'app';
const now = () => Math.floor(Date.now() / 1000);
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

function rsa(bits: number) {
  return generateKeyPairSync('rsa', { modulusLength: bits });
}

/** A JWS signed with node:crypto (jose refuses to sign with short RSA keys). */
function jws(
  alg: 'RS256' | 'PS256',
  key: KeyObject,
  header: Record<string, unknown>,
  payload: unknown,
): string {
  const input = `${b64({ alg, kid: 'k1', ...header })}.${b64(payload)}`;
  const signature =
    alg === 'RS256'
      ? sign('sha256', Buffer.from(input), key)
      : sign('sha256', Buffer.from(input), { key, padding: 6, saltLength: 32 });
  return `${input}.${signature.toString('base64url')}`;
}

function keysOf(publicKey: KeyObject) {
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'k1', use: 'sig' };
  const channel: BackChannel = {
    get: (): Promise<BackChannelResponse> =>
      Promise.resolve({ status: 200, headers: {}, json: { keys: [jwk] } }),
    postForm: () => Promise.reject(new Error('not used')),
    close: async () => {},
  };
  return createJwksResolver(channel, () => Promise.resolve(`${issuer}/jwks`), 30);
}

const idClaims = () => ({ iss: issuer, aud: clientId, sub: 'u', nonce: 'n', iat: now(), exp: now() + 300 });
const expected = { issuer, clientId, nonce: 'n', clockToleranceSeconds: 5 };

describe("the AS's RSA keys", () => {
  it('refuse an ID token signed with a 1024-bit RSA key, naming the size', async () => {
    const { privateKey, publicKey } = rsa(1024);
    const token = jws('RS256', privateKey, {}, idClaims());
    await expect(validateIdToken(token, keysOf(publicKey), expected)).rejects.toMatchObject({
      code: 'id_token_invalid',
      message: expect.stringContaining('RSA key of 1024 bits, and at least 2048 are required'),
    });
  });

  it('accept one signed with a 2048-bit key', async () => {
    const { privateKey, publicKey } = rsa(2048);
    const token = jws('RS256', privateKey, {}, idClaims());
    await expect(validateIdToken(token, keysOf(publicKey), expected)).resolves.toMatchObject({ sub: 'u' });
  });
});

describe('logout tokens', () => {
  const { privateKey, publicKey } = rsa(2048);
  const logoutToken = (alg: 'RS256' | 'PS256') =>
    jws(
      alg,
      privateKey,
      { typ: 'logout+jwt' },
      {
        iss: issuer,
        aud: clientId,
        iat: now(),
        exp: now() + 120,
        jti: `j-${alg}`,
        sid: 's1',
        events: { 'http://schemas.openid.net/event/backchannel-logout': {} },
      },
    );
  const base = { issuer, clientId, clockToleranceSeconds: 5, maxTokenAgeSeconds: 120, nowSeconds: now() };

  it("are held to the profile's algorithms: RS256 refused under FAPI 2.0's list, PS256 accepted", async () => {
    const fapi2 = { ...base, algorithms: ['PS256', 'ES256', 'EdDSA'] };
    await expect(verifyLogoutToken(logoutToken('RS256'), keysOf(publicKey), fapi2)).rejects.toThrow(
      'its signing algorithm is not allowed',
    );
    await expect(verifyLogoutToken(logoutToken('PS256'), keysOf(publicKey), fapi2)).resolves.toMatchObject({
      selector: { sid: 's1' },
    });
    await expect(verifyLogoutToken(logoutToken('RS256'), keysOf(publicKey), base)).resolves.toMatchObject({
      selector: { sid: 's1' },
    });
  });
});

describe("the client's own key", () => {
  it('refuses an RSA key under 2048 bits, naming the size', () => {
    expect(importSigningKey(rsa(1024).privateKey, undefined, undefined)).toEqual({
      problem: 'is an RSA key of 1024 bits: at least 2048 are required (RFC 7518 §3.3)',
    });
    expect(importSigningKey(rsa(2048).privateKey, undefined, undefined)).toMatchObject({ alg: 'RS256' });
  });
});
