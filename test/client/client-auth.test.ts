import { describe, expect, it } from '@jest/globals';
import { generateKeyPairSync } from 'node:crypto';
import { calculateJwkThumbprint, decodeJwt, decodeProtectedHeader, exportJWK, jwtVerify } from 'jose';
import { createClientAuthentication, JWT_BEARER_ASSERTION } from '../../src/client/client-auth.js';
import { resolveConfig } from '../../src/config/resolve-config.js';

const base = { issuer: 'https://as.example', baseUrl: 'https://app.example', sessionSecret: 's'.repeat(32) };

describe('client_secret_basic', () => {
  it('form-urlencodes id and secret before base64 (RFC 6749 §2.3.1)', async () => {
    const auth = createClientAuthentication(
      resolveConfig({ ...base, clientId: 'my app:1', clientSecret: 'p@ss wörd/+&=%' }),
    );
    const headers = await auth.apply(new URLSearchParams(), 'https://as.example/par');
    const decoded = Buffer.from(headers.authorization!.replace(/^Basic /, ''), 'base64').toString();
    expect(decoded).toBe('my+app%3A1:p%40ss+w%C3%B6rd%2F%2B%26%3D%25');
  });

  it('adds no credentials to the body', async () => {
    const auth = createClientAuthentication(
      resolveConfig({ ...base, clientId: 'app', clientSecret: 'secret' }),
    );
    const form = new URLSearchParams({ a: '1' });
    await auth.apply(form, 'https://as.example/par');
    expect([...form.keys()]).toEqual(['a']);
  });
});

describe('private_key_jwt', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });

  it('signs a fresh, short-lived assertion with iss = sub = client id and aud = issuer', async () => {
    const jwk = { ...(await exportJWK(privateKey)), kid: 'k1' };
    const auth = createClientAuthentication(
      resolveConfig({ ...base, clientId: 'app', privateKey: JSON.stringify(jwk) }),
    );
    const first = new URLSearchParams();
    const second = new URLSearchParams();
    await auth.apply(first, 'https://as.example/par');
    await auth.apply(second, 'https://as.example/par');
    expect(first.get('client_assertion_type')).toBe(JWT_BEARER_ASSERTION);
    const assertion = first.get('client_assertion')!;
    const { payload } = await jwtVerify(assertion, publicKey, {
      issuer: 'app',
      subject: 'app',
      audience: 'https://as.example',
    });
    expect(payload.exp! - payload.iat!).toBeLessThanOrEqual(60);
    expect(payload.exp! - payload.iat!).toBeGreaterThan(0);
    expect(decodeProtectedHeader(assertion)).toMatchObject({ alg: 'ES256', kid: 'k1' });
    expect(decodeJwt(second.get('client_assertion')!).jti).not.toBe(payload.jti);
  });

  it('keeps the header exactly {alg, kid, typ: JWT} and the claims exactly iss, sub, aud, jti, iat, exp', async () => {
    const jwk = { ...(await exportJWK(privateKey)), kid: 'k1' };
    const auth = createClientAuthentication(
      resolveConfig({ ...base, clientId: 'app', privateKey: JSON.stringify(jwk) }),
    );
    const forms = [new URLSearchParams(), new URLSearchParams()];
    for (const form of forms) await auth.apply(form, 'https://as.example/token');
    const [first, second] = forms.map((form) => form.get('client_assertion')!);
    const { payload } = await jwtVerify(first!, publicKey, { typ: 'JWT', algorithms: ['ES256'] });
    expect(Buffer.from(first!.split('.')[0]!, 'base64url').toString()).toBe(
      '{"alg":"ES256","kid":"k1","typ":"JWT"}',
    );
    expect(second!.split('.')[0]).toBe(first!.split('.')[0]);
    expect(Object.keys(payload)).toEqual(['iss', 'sub', 'aud', 'jti', 'iat', 'exp']);
    expect(payload.jti).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(payload.exp! - payload.iat!).toBe(60);
  });

  it('uses the endpoint URL as audience when configured', async () => {
    const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
    const auth = createClientAuthentication(
      resolveConfig({ ...base, clientId: 'app', privateKey: pem, assertionAudience: 'endpoint' }),
    );
    const form = new URLSearchParams();
    await auth.apply(form, 'https://as.example/token');
    expect(decodeJwt(form.get('client_assertion')!).aud).toBe('https://as.example/token');
  });

  it.each<[string, () => object, string]>([
    ['RSA', () => generateKeyPairSync('rsa', { modulusLength: 2048 }), 'RS256'],
    ['P-384', () => generateKeyPairSync('ec', { namedCurve: 'P-384' }), 'ES384'],
    ['Ed25519', () => generateKeyPairSync('ed25519'), 'EdDSA'],
  ])('derives the algorithm of an %s key, and its RFC 7638 thumbprint as kid', async (_name, make, alg) => {
    const key = (make() as { privateKey: import('node:crypto').KeyObject }).privateKey;
    const config = resolveConfig({
      ...base,
      clientId: 'app',
      privateKey: key.export({ format: 'pem', type: 'pkcs8' }) as string,
    });
    expect(config.signingKey?.alg).toBe(alg);
    expect(config.signingKey?.kid).toBe(await calculateJwkThumbprint(await exportJWK(key), 'sha256'));
  });

  it('refuses an algorithm that does not fit the key, and a public key', async () => {
    const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
    expect(() =>
      resolveConfig({ ...base, clientId: 'app', privateKey: pem, privateKeyAlg: 'RS256' }),
    ).toThrow(/cannot sign with RS256/);
    const publicJwk = JSON.stringify(await exportJWK(publicKey));
    expect(() =>
      resolveConfig({ ...base, clientId: 'app', clientAuthMethod: 'private_key_jwt', privateKey: publicJwk }),
    ).toThrow(/is not a private key/);
  });
});
