/**
 * Start-up checks of the issue-6 options: the PAR policy, DPoP, JAR, mTLS material, per-request
 * redirect origins, front-channel extras, and the FAPI 2.0 profile listing every violation at once.
 */
import { describe, expect, it } from '@jest/globals';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveConfig } from '../../src/config/resolve-config.js';
import { configFromEnv } from '../../src/config/env.js';
import { ConfigError } from '../../src/errors.js';
import type { ParLoginOptions } from '../../src/config/options.js';
import { createTestPki } from '../helpers/certs.js';

const SECRET = 'x'.repeat(40);
const base: ParLoginOptions = {
  issuer: 'https://as.example',
  clientId: 'app',
  baseUrl: 'https://app.example',
  sessionSecret: SECRET,
};
const ecKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
const rsaKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({
  format: 'pem',
  type: 'pkcs8',
}) as string;

function problemsOf(options: ParLoginOptions): readonly string[] {
  try {
    resolveConfig(options);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('environment variables of issue 6', () => {
  it('reads OIDC_PAR, OIDC_PROFILE, OIDC_DPOP, OIDC_REQUEST_OBJECT, TLS files, redirect origins and front-channel params', () => {
    expect(
      configFromEnv({
        OIDC_PAR: 'auto',
        OIDC_PROFILE: 'fapi2',
        OIDC_DPOP: 'instance',
        OIDC_REQUEST_OBJECT: 'true',
        OIDC_TLS_CLIENT_CERT: '/c.pem',
        OIDC_TLS_CLIENT_KEY: '/k.pem',
        OIDC_TLS_CA: '/ca.pem',
        OIDC_REDIRECT_ORIGINS: 'https://a.example, https://b.example',
        OIDC_FRONT_CHANNEL_PARAMS: 'response_type,scope',
      }),
    ).toEqual({
      par: 'auto',
      profile: 'fapi2',
      dpop: 'instance',
      requestObject: true,
      tlsClientCert: '/c.pem',
      tlsClientKey: '/k.pem',
      tlsCa: '/ca.pem',
      redirectOrigins: ['https://a.example', 'https://b.example'],
      frontChannelParams: ['response_type', 'scope'],
    });
  });

  it('passes a non-boolean OIDC_REQUEST_OBJECT on for validation to report', () => {
    expect(configFromEnv({ OIDC_REQUEST_OBJECT: 'maybe' }).requestObject).toBe('maybe');
    expect(problemsOf({ ...base, clientSecret: 's', requestObject: 'maybe' as never })).toContainEqual(
      expect.stringContaining('requestObject (OIDC_REQUEST_OBJECT) must be true or false'),
    );
  });
});

describe('defaults', () => {
  it('requires PAR, no DPoP, no JAR, no front-channel extras, the app origin only', () => {
    const config = resolveConfig({ ...base, clientSecret: 's' });
    expect(config).toMatchObject({
      par: 'required',
      profile: 'none',
      dpop: 'off',
      requestObject: false,
      useMtls: false,
      frontChannelParams: [],
      redirectOrigins: ['https://app.example'],
    });
  });

  it('accepts client_secret_post', () => {
    expect(
      resolveConfig({ ...base, clientSecret: 's', clientAuthMethod: 'client_secret_post' }).clientSecret,
    ).toBe('s');
    expect(problemsOf({ ...base, clientAuthMethod: 'client_secret_post' })).toContainEqual(
      expect.stringContaining('clientSecret (OIDC_CLIENT_SECRET) is required with client_secret_post'),
    );
  });
});

describe('problems', () => {
  it.each<[string, Partial<ParLoginOptions>, string]>([
    ['an unknown PAR policy', { par: 'sometimes' as never }, 'par (OIDC_PAR) must be "required" or "auto"'],
    ['an unknown profile', { profile: 'fapi1' as never }, 'profile (OIDC_PROFILE) must be "none" or "fapi2"'],
    [
      'an unknown DPoP mode',
      { dpop: 'always' as never },
      'dpop (OIDC_DPOP) must be "off", "session" or "instance"',
    ],
    [
      'JAR without a key',
      { requestObject: true },
      'privateKey (OIDC_PRIVATE_KEY) is required with requestObject',
    ],
    [
      'an http redirect origin',
      { redirectOrigins: ['http://tenant.example'] },
      'redirectOrigins (OIDC_REDIRECT_ORIGINS) must be https origins',
    ],
    [
      'a redirect origin with a path',
      { redirectOrigins: ['https://tenant.example/x'] },
      'redirectOrigins (OIDC_REDIRECT_ORIGINS) must be https origins',
    ],
    [
      'an unknown front-channel parameter',
      { frontChannelParams: ['login_hint' as never] },
      'frontChannelParams (OIDC_FRONT_CHANNEL_PARAMS) may hold only response_type, scope',
    ],
    [
      'tls_client_auth without a certificate',
      { clientAuthMethod: 'tls_client_auth' },
      'tlsClientCert (OIDC_TLS_CLIENT_CERT) and tlsClientKey are required with tls_client_auth',
    ],
    [
      'a certificate file that cannot be read',
      { tlsClientCert: '/nonexistent/c.pem', tlsClientKey: '/nonexistent/k.pem' },
      'tlsClientCert (OIDC_TLS_CLIENT_CERT) cannot be read',
    ],
    [
      'a key without a certificate',
      { tlsClientKey: '-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----' },
      'tlsClientCert (OIDC_TLS_CLIENT_CERT) is required with tlsClientKey',
    ],
  ])('reports %s', (_name, options, text) => {
    expect(problemsOf({ ...base, clientSecret: 's', ...options })).toContainEqual(
      expect.stringContaining(text),
    );
  });

  it('reports a certificate and a key that do not belong together, without quoting either', () => {
    const pki = createTestPki();
    try {
      const { certFile: cert, keyFile: key } = pki.client('app');
      const other = join(mkdtempSync(join(tmpdir(), 'parlogin-')), 'other.pem');
      writeFileSync(
        other,
        generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({
          format: 'pem',
          type: 'pkcs8',
        }),
      );
      expect(
        resolveConfig({
          ...base,
          clientAuthMethod: 'tls_client_auth',
          tlsClientCert: cert,
          tlsClientKey: key,
        }).useMtls,
      ).toBe(true);
      const problems = problemsOf({
        ...base,
        clientAuthMethod: 'tls_client_auth',
        tlsClientCert: cert,
        tlsClientKey: other,
      });
      expect(problems).toEqual(['tlsClientKey (OIDC_TLS_CLIENT_KEY) does not belong to tlsClientCert']);
      expect(problemsOf({ ...base, tlsClientCert: cert, tlsClientKey: key, tlsCa: key })).toEqual([
        'tlsCa (OIDC_TLS_CA) is not a PEM certificate',
      ]);
    } finally {
      pki.remove();
    }
  });
});

describe('profile fapi2', () => {
  it('starts with private_key_jwt and an ES256 key, with DPoP per session, iss required and FAPI algorithms', () => {
    const config = resolveConfig({ ...base, profile: 'fapi2', privateKey: ecKey });
    expect(config).toMatchObject({
      clientAuthMethod: 'private_key_jwt',
      dpop: 'session',
      requireIss: true,
      par: 'required',
      maxRequestUriLifetimeSeconds: 600,
    });
    expect(config.idTokenAlgorithms).toEqual(['PS256', 'ES256', 'EdDSA', 'Ed25519']);
  });

  it('lists every violation at once, naming each option', () => {
    const problems = problemsOf({
      ...base,
      profile: 'fapi2',
      clientSecret: 'shh-secret',
      clientAuthMethod: 'client_secret_basic',
      par: 'auto',
      dpop: 'off',
      assertionAudience: 'endpoint',
      loginGraceSeconds: 900,
      requestObject: true,
      privateKey: rsaKey,
      privateKeyAlg: 'RS256',
    });
    expect(problems).toEqual([
      expect.stringMatching(/^par \(OIDC_PAR\) must be "required".*\(profile fapi2/),
      expect.stringMatching(
        /^clientAuthMethod \(OIDC_CLIENT_AUTH_METHOD\) is client_secret_basic, but only private_key_jwt, tls_client_auth, self_signed_tls_client_auth/,
      ),
      expect.stringMatching(
        /^privateKeyAlg \(OIDC_PRIVATE_KEY_ALG\) is RS256, but only PS256, ES256 and EdDSA/,
      ),
      expect.stringMatching(/^assertionAudience \(OIDC_ASSERTION_AUDIENCE\) must be "issuer"/),
      expect.stringMatching(/^dpop \(OIDC_DPOP\) is off and no client certificate is configured/),
      expect.stringMatching(/^loginGraceSeconds \(OIDC_LOGIN_GRACE\) must be at most 300 seconds/),
    ]);
    expect(problems.join('\n')).not.toContain('shh-secret');
  });

  it('accepts PS256 with an RSA key', () => {
    expect(
      resolveConfig({ ...base, profile: 'fapi2', privateKey: rsaKey, privateKeyAlg: 'PS256' }).signingKey
        ?.alg,
    ).toBe('PS256');
  });
});
