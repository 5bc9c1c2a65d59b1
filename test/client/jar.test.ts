/**
 * Request objects (RFC 9101, with PAR: RFC 9126 §3), with no AS: each is verified with jose against
 * the client's public key, its protected header is exactly `{"alg":…,"kid":…,"typ":"oauth-authz-req+jwt"}`
 * (§10.8), and its claims are exactly the parameters, `client_id`, `iss`, `aud` (§4), `iat`, `nbf`,
 * `exp` 60 s later and a fresh `jti`, in that order.
 */
import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import { compactVerify, jwtVerify } from 'jose';
import { requestObjectClaims, signedRequestForm } from '../../src/client/jar.js';
import { importSigningKey, type SigningKey } from '../../src/crypto/signing-key.js';

const NOW_MS = 1_700_000_000_999;
const NOW = 1_700_000_000;
const ISSUER = 'https://as.example';

afterEach(() => {
  jest.restoreAllMocks();
});

function signingKey(privateKey: KeyObject, alg: string, kid = 'client-key-1'): SigningKey {
  const key = importSigningKey(privateKey, alg, kid);
  if ('problem' in key) throw new Error(key.problem);
  return key;
}

const params = (): URLSearchParams =>
  new URLSearchParams([
    ['response_type', 'code'],
    ['redirect_uri', 'https://app.example/callback'],
    ['scope', 'openid profile'],
    ['resource', 'https://api.one.example'],
    ['resource', 'https://api.two.example'],
    ['claims', '{"id_token":{"acr":{"essential":true}}}'],
  ]);

describe('requestObjectClaims', () => {
  it('keeps single parameters as strings, repeated ones as arrays, and parses claims and authorization_details', () => {
    const form = params();
    form.append('authorization_details', '[{"type":"payment_initiation"}]');
    expect(requestObjectClaims(form)).toEqual({
      response_type: 'code',
      redirect_uri: 'https://app.example/callback',
      scope: 'openid profile',
      resource: ['https://api.one.example', 'https://api.two.example'],
      claims: { id_token: { acr: { essential: true } } },
      authorization_details: [{ type: 'payment_initiation' }],
    });
  });
});

describe('signedRequestForm', () => {
  it.each<[string, () => { privateKey: KeyObject }]>([
    ['ES256', () => generateKeyPairSync('ec', { namedCurve: 'P-256' })],
    ['PS256', () => generateKeyPairSync('rsa', { modulusLength: 2048 })],
    ['RS256', () => generateKeyPairSync('rsa', { modulusLength: 2048 })],
    ['EdDSA', () => generateKeyPairSync('ed25519')],
  ])('%s: pushes client_id and a request object with the exact header and claims', async (alg, make) => {
    jest.spyOn(Date, 'now').mockReturnValue(NOW_MS);
    const { privateKey } = make();
    const form = await signedRequestForm(params(), signingKey(privateKey, alg), 'client-1', ISSUER);
    expect([...form.keys()]).toEqual(['client_id', 'request']);
    expect(form.get('client_id')).toBe('client-1');

    const request = form.get('request')!;
    const publicKey = createPublicKey(privateKey);
    const { payload, protectedHeader } = await jwtVerify(request, publicKey, {
      algorithms: [alg],
      typ: 'oauth-authz-req+jwt',
      issuer: 'client-1',
      audience: ISSUER,
      currentDate: new Date(NOW_MS),
    });
    await compactVerify(request, publicKey, { algorithms: [alg] });
    expect(Buffer.from(request.split('.')[0]!, 'base64url').toString()).toBe(
      JSON.stringify({ alg, kid: 'client-key-1', typ: 'oauth-authz-req+jwt' }),
    );
    expect(protectedHeader).toEqual({ alg, kid: 'client-key-1', typ: 'oauth-authz-req+jwt' });
    expect(Object.keys(payload)).toEqual([
      ...['response_type', 'redirect_uri', 'scope', 'resource', 'claims', 'client_id'],
      ...['iss', 'aud', 'iat', 'nbf', 'exp', 'jti'],
    ]);
    expect(payload).toEqual({
      ...requestObjectClaims(params()),
      client_id: 'client-1',
      iss: 'client-1',
      aud: ISSUER,
      iat: NOW,
      nbf: NOW,
      exp: NOW + 60,
      jti: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/),
    });
  });

  it('uses a fresh jti and the current time for each request object, with the same key', async () => {
    const key = signingKey(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, 'ES256');
    const publicKey = createPublicKey(key.key);
    const now = jest.spyOn(Date, 'now').mockReturnValue(NOW_MS);
    const first = (await signedRequestForm(params(), key, 'client-1', ISSUER)).get('request')!;
    now.mockReturnValue(NOW_MS + 7_000);
    const second = (await signedRequestForm(params(), key, 'client-1', ISSUER)).get('request')!;
    const a = (await jwtVerify(first, publicKey, { currentDate: new Date(NOW_MS) })).payload;
    const b = (await jwtVerify(second, publicKey, { currentDate: new Date(NOW_MS + 7_000) })).payload;
    expect(a.jti).not.toBe(b.jti);
    expect([a.iat, b.iat, b.nbf, b.exp]).toEqual([NOW, NOW + 7, NOW + 7, NOW + 67]);
  });

  it('signs with each key under its own alg and kid', async () => {
    const ec = signingKey(generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey, 'ES384', 'ec-key');
    const ed = signingKey(generateKeyPairSync('ed25519').privateKey, 'EdDSA', 'ed-key');
    for (const key of [ec, ed, ec]) {
      const request = (await signedRequestForm(params(), key, 'client-1', ISSUER)).get('request')!;
      const { protectedHeader } = await compactVerify(request, createPublicKey(key.key));
      expect(protectedHeader).toEqual({ alg: key.alg, kid: key.kid, typ: 'oauth-authz-req+jwt' });
    }
  });

  it('rejects (does not throw) for a key that does not fit its alg', async () => {
    const wrong: SigningKey = {
      key: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey,
      alg: 'RS256',
      kid: 'k',
    };
    let result: Promise<URLSearchParams> | undefined;
    expect(() => (result = signedRequestForm(params(), wrong, 'client-1', ISSUER))).not.toThrow();
    await expect(result).rejects.toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }));
  });
});
