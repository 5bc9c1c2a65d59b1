/**
 * The JWKS resolver alone (no network): keys the AS publishes but WebCrypto cannot import.
 * The rotation and cooldown cases are in id-token.test.ts; the end-to-end ones in
 * integration/hostile-jwks.test.ts.
 */
import { describe, expect, it } from '@jest/globals';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import type { BackChannel } from '../../src/client/http.js';
import { createJwksResolver } from '../../src/client/jwks.js';

function serving(keys: unknown[]): BackChannel {
  return {
    get: () => Promise.resolve({ status: 200, headers: {}, json: { keys } }),
    postForm: () => Promise.reject(new Error('not used')),
    close: async () => {},
  };
}

async function publicJwk(kid: string): Promise<JWK> {
  const { publicKey } = await generateKeyPair('ES256', { extractable: true });
  return { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };
}

describe('createJwksResolver', () => {
  // Regression: WebCrypto's DataError escaped as a plain error, and the callback answered 500.
  it.each<[string, (jwk: JWK) => unknown]>([
    ['broken coordinates', (jwk) => ({ ...jwk, x: 'AAAA', y: 'AAAA' })],
    ['a numeric coordinate', (jwk) => ({ ...jwk, x: 5 })],
    ['a private part', (jwk) => ({ ...jwk, d: 'AAAA' })],
  ])('reports a matching key with %s as jwks_error', async (_name, spoil) => {
    const keys = createJwksResolver(
      serving([spoil(await publicJwk('k1'))]),
      () => Promise.resolve('https://as.example/jwks'),
      30,
    );
    await expect(keys({ alg: 'ES256', kid: 'k1' })).rejects.toMatchObject({
      code: 'jwks_error',
      status: 502,
    });
  });

  it('still returns a good key', async () => {
    const keys = createJwksResolver(
      serving([await publicJwk('k1')]),
      () => Promise.resolve('https://as.example/jwks'),
      30,
    );
    const found = await keys({ alg: 'ES256', kid: 'k1' });
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ type: 'public', asymmetricKeyType: 'ec' });
    // Imported once: the same KeyObject every time.
    expect((await keys({ alg: 'ES256', kid: 'k1' }))[0]).toBe(found[0]);
  });

  it.each<[string, (jwk: JWK) => JWK, { alg: string; kid?: string }]>([
    ['another kid', (jwk) => jwk, { alg: 'ES256', kid: 'k2' }],
    ['another alg', (jwk) => jwk, { alg: 'ES384', kid: 'k1' }],
    ['an alg of another key type', (jwk) => jwk, { alg: 'RS256', kid: 'k1' }],
    ['a key for encryption', (jwk) => ({ ...jwk, use: 'enc' }), { alg: 'ES256', kid: 'k1' }],
    ['key_ops without verify', (jwk) => ({ ...jwk, key_ops: ['encrypt'] }), { alg: 'ES256', kid: 'k1' }],
    [
      'a key on another curve than the alg names',
      (jwk) => {
        const rest = { ...jwk };
        delete rest.alg;
        return rest;
      },
      { alg: 'ES384', kid: 'k1' },
    ],
    [
      'a crv that is not the one of the alg',
      (jwk) => ({ ...jwk, crv: 'P-384' }),
      { alg: 'ES256', kid: 'k1' },
    ],
  ])('selects no key for %s', async (_name, change, header) => {
    const keys = createJwksResolver(
      serving([change(await publicJwk('k1'))]),
      () => Promise.resolve('https://as.example/jwks'),
      3600,
    );
    await expect(keys(header)).resolves.toEqual([]);
  });

  it('selects every fitting key when the header has no kid', async () => {
    const keys = createJwksResolver(
      serving([await publicJwk('k1'), await publicJwk('k2')]),
      () => Promise.resolve('https://as.example/jwks'),
      30,
    );
    await expect(keys({ alg: 'ES256' })).resolves.toHaveLength(2);
  });
});
