import { describe, expect, it } from '@jest/globals';
import { exportJWK, generateKeyPair, SignJWT, UnsecuredJWT, type JWK, type JWTPayload } from 'jose';
import type { BackChannel, BackChannelResponse } from '../../src/client/http.js';
import { validateIdToken } from '../../src/client/id-token.js';
import { createJwksResolver } from '../../src/client/jwks.js';

const issuer = 'https://as.example';
const clientId = 'app';
const nonce = 'n-0S6_WzA2Mj';
const expected = { issuer, clientId, nonce, clockToleranceSeconds: 5 };

/** A back channel that serves a JWKS from memory and counts fetches (no network in unit tests). */
function jwksChannel(keys: () => JWK[]): BackChannel & { fetches: number } {
  const channel = {
    fetches: 0,
    get(): Promise<BackChannelResponse> {
      channel.fetches++;
      return Promise.resolve({ status: 200, headers: {}, json: { keys: keys() } });
    },
    postForm: () => Promise.reject(new Error('not used')),
    close: async () => {},
  };
  return channel;
}

async function keyPair(kid: string) {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  return { privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' } };
}

const now = () => Math.floor(Date.now() / 1000);
const goodClaims = (): JWTPayload => ({
  iss: issuer,
  aud: clientId,
  sub: 'user-1',
  nonce,
  iat: now(),
  exp: now() + 300,
});

async function sign(
  privateKey: Parameters<SignJWT['sign']>[0],
  kid: string,
  claims: JWTPayload,
): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid }).sign(privateKey);
}

describe('validateIdToken', () => {
  it('accepts a valid token and returns its claims', async () => {
    const k = await keyPair('k1');
    const keys = createJwksResolver(
      jwksChannel(() => [k.publicJwk]),
      () => Promise.resolve(`${issuer}/jwks`),
      30,
    );
    const claims = await validateIdToken(await sign(k.privateKey, 'k1', goodClaims()), keys, expected);
    expect(claims.sub).toBe('user-1');
  });

  it.each<[string, (c: JWTPayload) => JWTPayload, RegExp]>([
    ['a wrong iss', (c) => ({ ...c, iss: 'https://evil.example' }), /claim "iss"/],
    ['a wrong aud', (c) => ({ ...c, aud: 'other' }), /claim "aud"/],
    ['an extra aud without azp', (c) => ({ ...c, aud: [clientId, 'other'] }), /several audiences and no azp/],
    [
      'an azp of another client',
      (c) => ({ ...c, aud: [clientId, 'other'], azp: 'other' }),
      /azp is not this client/,
    ],
    ['an expired token', (c) => ({ ...c, exp: now() - 60 }), /claim "exp"/],
    [
      'an iat in the future beyond skew',
      (c) => ({ ...c, iat: now() + 120, exp: now() + 600 }),
      /claim "iat"/,
    ],
    ['an old iat', (c) => ({ ...c, iat: now() - 3600 }), /claim "iat"/],
    ['a wrong nonce', (c) => ({ ...c, nonce: 'other' }), /nonce does not match/],
    [
      'no nonce',
      (c) => {
        const rest = { ...c };
        delete rest.nonce;
        return rest;
      },
      /nonce does not match/,
    ],
    [
      'no sub',
      (c) => {
        const rest = { ...c };
        delete rest.sub;
        return rest;
      },
      /claim "sub"/,
    ],
  ])('refuses %s', async (_name, change, message) => {
    const k = await keyPair('k1');
    const keys = createJwksResolver(
      jwksChannel(() => [k.publicJwk]),
      () => Promise.resolve(`${issuer}/jwks`),
      30,
    );
    const token = await sign(k.privateKey, 'k1', change(goodClaims()));
    await expect(validateIdToken(token, keys, expected)).rejects.toMatchObject({
      code: 'id_token_invalid',
      status: 502,
      message,
    });
  });

  it('accepts several audiences with a matching azp', async () => {
    const k = await keyPair('k1');
    const keys = createJwksResolver(
      jwksChannel(() => [k.publicJwk]),
      () => Promise.resolve(`${issuer}/jwks`),
      30,
    );
    const token = await sign(k.privateKey, 'k1', { ...goodClaims(), aud: [clientId, 'api'], azp: clientId });
    await expect(validateIdToken(token, keys, expected)).resolves.toMatchObject({ azp: clientId });
  });

  it('refuses an unsigned token (alg none)', async () => {
    const k = await keyPair('k1');
    const keys = createJwksResolver(
      jwksChannel(() => [k.publicJwk]),
      () => Promise.resolve(`${issuer}/jwks`),
      30,
    );
    const token = new UnsecuredJWT(goodClaims()).encode();
    await expect(validateIdToken(token, keys, expected)).rejects.toMatchObject({ code: 'id_token_invalid' });
  });

  it('refuses an HMAC token keyed with the client secret', async () => {
    const k = await keyPair('k1');
    const secret = new TextEncoder().encode('the-client-secret-of-this-app-000');
    const keys = createJwksResolver(
      jwksChannel(() => [
        k.publicJwk,
        { kty: 'oct', k: Buffer.from(secret).toString('base64url'), kid: 'h' },
      ]),
      () => Promise.resolve(`${issuer}/jwks`),
      30,
    );
    const token = await new SignJWT(goodClaims()).setProtectedHeader({ alg: 'HS256', kid: 'h' }).sign(secret);
    await expect(validateIdToken(token, keys, expected)).rejects.toMatchObject({
      code: 'id_token_invalid',
      message: /algorithm is not allowed/,
    });
  });

  it('refuses a token signed by an unknown key after one refetch', async () => {
    const k = await keyPair('k1');
    const stranger = await keyPair('k1');
    const channel = jwksChannel(() => [k.publicJwk]);
    const keys = createJwksResolver(channel, () => Promise.resolve(`${issuer}/jwks`), 0);
    await expect(
      validateIdToken(await sign(stranger.privateKey, 'k1', goodClaims()), keys, expected),
    ).rejects.toMatchObject({ code: 'id_token_invalid', message: /signature does not verify/ });
    await expect(
      validateIdToken(await sign(stranger.privateKey, 'other', goodClaims()), keys, expected),
    ).rejects.toMatchObject({ code: 'id_token_invalid', message: /no key of the AS matches/ });
    expect(channel.fetches).toBe(2);
  });

  it('refetches the JWKS once on a new kid (rotation), but not within the cooldown', async () => {
    const k1 = await keyPair('k1');
    const k2 = await keyPair('k2');
    let published = [k1.publicJwk];
    const channel = jwksChannel(() => published);
    const keys = createJwksResolver(channel, () => Promise.resolve(`${issuer}/jwks`), 0);
    await validateIdToken(await sign(k1.privateKey, 'k1', goodClaims()), keys, expected);
    published = [k1.publicJwk, k2.publicJwk];
    await expect(
      validateIdToken(await sign(k2.privateKey, 'k2', goodClaims()), keys, expected),
    ).resolves.toMatchObject({ sub: 'user-1' });
    expect(channel.fetches).toBe(2);

    const slow = jwksChannel(() => [k1.publicJwk]);
    const cooled = createJwksResolver(slow, () => Promise.resolve(`${issuer}/jwks`), 3600);
    await validateIdToken(await sign(k1.privateKey, 'k1', goodClaims()), cooled, expected);
    await expect(
      validateIdToken(await sign(k2.privateKey, 'k2', goodClaims()), cooled, expected),
    ).rejects.toMatchObject({ code: 'id_token_invalid' });
    expect(slow.fetches).toBe(1);
  });

  it('reports a JWKS that is not a key set', async () => {
    const channel: BackChannel = {
      get: () => Promise.resolve({ status: 200, headers: {}, json: { nope: true } }),
      postForm: () => Promise.reject(new Error()),
      close: async () => {},
    };
    const keys = createJwksResolver(channel, () => Promise.resolve(`${issuer}/jwks`), 0);
    const k = await keyPair('k1');
    await expect(
      validateIdToken(await sign(k.privateKey, 'k1', goodClaims()), keys, expected),
    ).rejects.toMatchObject({ code: 'jwks_error', status: 502 });
  });
});

describe('validateIdToken with requested acr values (OIDC Core §3.1.3.7 item 12)', () => {
  async function validateWithAcr(acr: unknown, requested: readonly string[] | undefined) {
    const k = await keyPair('k1');
    const keys = createJwksResolver(
      jwksChannel(() => [k.publicJwk]),
      () => Promise.resolve(`${issuer}/jwks`),
      30,
    );
    const claims = { ...goodClaims(), ...(acr === undefined ? {} : { acr }) };
    return validateIdToken(await sign(k.privateKey, 'k1', claims), keys, {
      ...expected,
      ...(requested === undefined ? {} : { acr: requested }),
    });
  }

  it('accepts an acr that is one of those requested', async () => {
    await expect(validateWithAcr('urn:loa:2', ['urn:loa:3', 'urn:loa:2'])).resolves.toMatchObject({
      acr: 'urn:loa:2',
    });
  });

  it.each([
    ['a lower acr', 'urn:loa:1', '"urn:loa:1", not one of "urn:loa:2"'],
    ['no acr', undefined, 'no authentication context class'],
    ['an acr that is not a string', ['urn:loa:2'], 'no authentication context class'],
  ])('refuses %s with acr_not_satisfied (403)', async (_what, acr, says) => {
    const failure = validateWithAcr(acr, ['urn:loa:2']);
    await expect(failure).rejects.toMatchObject({ code: 'acr_not_satisfied', status: 403 });
    await expect(failure).rejects.toThrow(says);
  });

  it('takes an empty list as "any acr", and no list as no check', async () => {
    await expect(validateWithAcr('anything', [])).resolves.toMatchObject({ acr: 'anything' });
    await expect(validateWithAcr(undefined, [])).rejects.toMatchObject({ code: 'acr_not_satisfied' });
    await expect(validateWithAcr(undefined, undefined)).resolves.toMatchObject({ sub: 'user-1' });
  });

  it('quotes at most 100 characters of an asserted acr', async () => {
    const failure = validateWithAcr(`urn:${'x'.repeat(5_000)}`, ['urn:loa:2']);
    await expect(failure).rejects.toThrow(/"urn:x{96}", not one of/);
  });
});
