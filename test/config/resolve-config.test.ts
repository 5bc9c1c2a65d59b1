import { describe, expect, it } from '@jest/globals';
import { generateKeyPairSync } from 'node:crypto';
import { resolveConfig } from '../../src/config/resolve-config.js';
import { configFromEnv } from '../../src/config/env.js';
import { ConfigError } from '../../src/errors.js';
import type { ParLoginOptions } from '../../src/config/options.js';

const SECRET = 'x'.repeat(40);
const valid: ParLoginOptions = {
  issuer: 'https://as.example',
  clientId: 'app',
  clientSecret: 'shh-secret-value',
  baseUrl: 'https://app.example',
  sessionSecret: SECRET,
};

function problemsOf(options: ParLoginOptions): readonly string[] {
  try {
    resolveConfig(options);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).code).toBe('ERR_INVALID_CONFIG');
    return (err as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('resolveConfig', () => {
  it('derives the redirect URI from the base URL and applies defaults', () => {
    const config = resolveConfig({ ...valid, baseUrl: 'https://app.example/portal/' });
    expect(config.redirectUri).toBe('https://app.example/portal/callback');
    expect(config.basePath).toBe('/portal');
    expect(config.postLogoutRedirectUri).toBe('https://app.example/portal/');
    expect(config.scope).toBe('openid profile email');
    expect(config.clientAuthMethod).toBe('client_secret_basic');
    expect(config.secure).toBe(true);
    expect(config.sessionCookieName).toBe('__Host-parlogin');
    expect(config.httpTimeoutMs).toBe(5000);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it.each([
    ['sessionAbsoluteTimeout', 'sessionAbsoluteTimeoutSeconds'],
    ['sessionIdleTimeout', 'sessionIdleTimeoutSeconds'],
    ['loginGrace', 'loginGraceSeconds'],
    ['clockTolerance', 'clockToleranceSeconds'],
    ['refreshSkew', 'refreshSkewSeconds'],
    ['jwksCooldown', 'jwksCooldownSeconds'],
  ])('refuses the old option name %s, naming %s', (old, renamed) => {
    expect(problemsOf({ ...valid, [old]: 60 })).toEqual([
      `${old} is no longer supported: use ${renamed} (the same number of seconds)`,
    ]);
    expect(resolveConfig({ ...valid, [renamed]: 60 })).toHaveProperty(renamed, 60);
  });

  it('uses a plain cookie name and no Secure flag on a loopback http base URL', () => {
    const config = resolveConfig({ ...valid, baseUrl: 'http://127.0.0.1:3000' });
    expect(config.secure).toBe(false);
    expect(config.sessionCookieName).toBe('parlogin');
  });

  it.each([
    ['myapp', '__Host-myapp'],
    ['__Host-myapp', '__Host-myapp'],
  ])('keeps the __Host- prefix on https for the configured name %s', (name, sent) => {
    expect(resolveConfig({ ...valid, sessionCookieName: name }).sessionCookieName).toBe(sent);
    expect(
      resolveConfig({ ...valid, baseUrl: 'http://127.0.0.1:3000', sessionCookieName: 'myapp' })
        .sessionCookieName,
    ).toBe('myapp');
  });

  it('reports every problem at once, naming option and environment variable', () => {
    const problems = problemsOf({});
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringContaining('issuer (OIDC_ISSUER) is required'),
        expect.stringContaining('clientId (OIDC_CLIENT_ID) is required'),
        expect.stringContaining('baseUrl (APP_BASE_URL) is required'),
        expect.stringContaining('clientSecret (OIDC_CLIENT_SECRET) is required with client_secret_basic'),
        expect.stringContaining('sessionSecret (SESSION_SECRET) is required'),
      ]),
    );
    expect(problems).toHaveLength(5);
  });

  it.each<[string, ParLoginOptions, string]>([
    ['plain-http issuer', { issuer: 'http://as.example' }, 'issuer (OIDC_ISSUER) must use https'],
    ['relative issuer', { issuer: 'as.example' }, 'issuer (OIDC_ISSUER) is not an absolute URL'],
    ['issuer with a query', { issuer: 'https://as.example/?x=1' }, 'must not have a query or fragment'],
    ['issuer with credentials', { issuer: 'https://u:p@as.example' }, 'must not contain credentials'],
    ['plain-http base URL', { baseUrl: 'http://app.example' }, 'baseUrl (APP_BASE_URL) must use https'],
    [
      'unknown auth method',
      { clientAuthMethod: 'client_secret_jwt' as never },
      'clientAuthMethod (OIDC_CLIENT_AUTH_METHOD) must be one of',
    ],
    [
      'missing key',
      { clientAuthMethod: 'private_key_jwt' },
      'privateKey (OIDC_PRIVATE_KEY) is required with private_key_jwt',
    ],
    [
      'garbage key',
      { clientAuthMethod: 'private_key_jwt', privateKey: '{"kty":"EC"}' },
      'privateKey (OIDC_PRIVATE_KEY) is not a private key',
    ],
    [
      'bad assertion audience',
      { assertionAudience: 'token' as never },
      'assertionAudience (OIDC_ASSERTION_AUDIENCE) must be',
    ],
    ['scope without openid', { scope: 'profile' }, 'scope (OIDC_SCOPE) must include "openid"'],
    [
      'protected extra parameter',
      { authorizationParams: { state: 'x', prompt: 'login' } },
      'authorizationParams (OIDC_AUTH_PARAMS) may not set state',
    ],
    ['short session secret', { sessionSecret: 'short' }, 'sessionSecret (SESSION_SECRET) is too short'],
    [
      'short previous session secret',
      { previousSessionSecrets: ['an-old-short-one'] },
      'previousSessionSecrets (SESSION_SECRET_PREVIOUS) must be earlier session secrets of at least 32',
    ],
    [
      'bad cookie name',
      { sessionCookieName: 'a b' },
      'sessionCookieName (SESSION_COOKIE_NAME) is not a valid cookie name',
    ],
    [
      '__Host- on http',
      { baseUrl: 'http://localhost:3000', sessionCookieName: '__Host-x' },
      'uses the __Host- prefix',
    ],
    [
      'non-numeric timeout',
      { httpTimeoutMs: 'soon' as never },
      'httpTimeoutMs (OIDC_HTTP_TIMEOUT_MS) must be an integer from 100 to 120000 (got "soon")',
    ],
    [
      'negative login grace',
      { loginGraceSeconds: -1 },
      'loginGraceSeconds (OIDC_LOGIN_GRACE) must be an integer from 0',
    ],
    [
      'short idle timeout',
      { sessionIdleTimeoutSeconds: 5 },
      'sessionIdleTimeoutSeconds (SESSION_IDLE_TIMEOUT) must be an integer from 60',
    ],
    [
      'non-redis URL',
      { redisUrl: 'http://u:hunter2@cache:6379' },
      'redisUrl (REDIS_URL) must be a redis:// or rediss:// URL',
    ],
    [
      'bad redis timeout',
      { redisCommandTimeoutMs: 0 },
      'redisCommandTimeoutMs (REDIS_COMMAND_TIMEOUT_MS) must be an integer from 50',
    ],
    [
      'short encryption key',
      { sessionEncryptionKey: ['short'] },
      'sessionEncryptionKey (SESSION_ENCRYPTION_KEY) must be keys of at least 16',
    ],
    [
      'spaced prefix',
      { sessionPrefix: 'my app:' },
      'sessionPrefix (SESSION_PREFIX) must be up to 64 printable',
    ],
    ['bad store', { sessionStore: {} as never }, 'sessionStore must be an express-session store'],
    [
      'negative clock tolerance',
      { clockToleranceSeconds: -1 },
      'clockToleranceSeconds (OIDC_CLOCK_TOLERANCE) must be an integer',
    ],
    [
      'session lifetime',
      { sessionAbsoluteTimeoutSeconds: 10 },
      'sessionAbsoluteTimeoutSeconds (SESSION_ABSOLUTE_TIMEOUT) must be an integer',
    ],
    ['bad path', { loginPath: 'login' }, 'loginPath must be a path like "/login"'],
    ['clashing paths', { loginPath: '/me' }, 'must differ'],
    [
      'bad post-logout URI',
      { postLogoutRedirectUri: 'javascript:alert(1)' },
      'postLogoutRedirectUri (OIDC_POST_LOGOUT_REDIRECT_URI) must use https',
    ],
    ['bad logger', { logger: {} as never }, 'logger must have warn(record) and error(record)'],
    ['max pending logins', { maxPendingLogins: 0 }, 'maxPendingLogins must be an integer from 1'],
    [
      'refresh skew',
      { refreshSkewSeconds: 7200 },
      'refreshSkewSeconds (OIDC_REFRESH_SKEW) must be an integer from 0 to 3600',
    ],
    [
      'userinfo switch',
      { fetchUserinfo: 'yes' as never },
      'fetchUserinfo (OIDC_FETCH_USERINFO) must be true or false (got "yes")',
    ],
    ['back-channel logout path', { backchannelLogoutPath: '/me' }, 'must differ'],
  ])('refuses a %s', (_name, override, expected) => {
    const problems = problemsOf({ ...valid, ...override });
    expect(problems.join('\n')).toContain(expected);
  });

  it('never quotes a secret or key in a problem', () => {
    const secretKey = JSON.stringify({ kty: 'oct', k: 'c2VjcmV0LWtleS1tYXRlcmlhbA' });
    const err = (() => {
      try {
        return resolveConfig({
          ...valid,
          sessionSecret: 'tiny-secret',
          previousSessionSecrets: ['old-tiny-secret'],
          clientAuthMethod: 'private_key_jwt',
          privateKey: secretKey,
          clientSecret: 'client-secret-123',
        });
      } catch (e) {
        return e as ConfigError;
      }
    })() as ConfigError;
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).not.toContain('tiny-secret');
    expect(err.problems.join('\n')).toContain('SESSION_SECRET_PREVIOUS');
    expect(err.message).not.toContain('c2VjcmV0LWtleS1tYXRlcmlhbA');
    expect(err.message).not.toContain('client-secret-123');
    expect(() => resolveConfig({ ...valid, redisUrl: 'http://u:hunter2@cache:6379' })).toThrow(
      /^(?![\s\S]*hunter2)/,
    );
  });

  it('infers private_key_jwt when only a key is given, and imports a PKCS#8 PEM', () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
    const config = resolveConfig({ ...valid, clientSecret: undefined, privateKey: pem });
    expect(config.clientAuthMethod).toBe('private_key_jwt');
    expect(config.signingKey?.alg).toBe('ES256');
    expect(config.signingKey?.kid).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});

describe('configFromEnv', () => {
  it('maps every documented variable and parses numbers and extra parameters', () => {
    const options = configFromEnv({
      OIDC_ISSUER: 'https://as.example',
      OIDC_CLIENT_ID: 'app',
      OIDC_CLIENT_AUTH_METHOD: 'client_secret_basic',
      OIDC_CLIENT_SECRET: ' spaced secret ',
      OIDC_SCOPE: 'openid email',
      APP_BASE_URL: 'https://app.example',
      SESSION_SECRET: SECRET,
      OIDC_HTTP_TIMEOUT_MS: '2500',
      OIDC_AUTH_PARAMS: 'prompt=login&acr_values=urn%3Aloa%3A2',
      SESSION_COOKIE_NAME: 'sid',
      OIDC_ASSERTION_AUDIENCE: 'endpoint',
      OIDC_LOGIN_GRACE: '120',
      OIDC_CLOCK_TOLERANCE: '5',
      SESSION_IDLE_TIMEOUT: '600',
      SESSION_ENCRYPTION_KEY: 'first-key-0123456789, second-key-0123456789',
      REDIS_URL: 'redis://127.0.0.1:6379',
      SESSION_PREFIX: 'app1:',
      REDIS_COMMAND_TIMEOUT_MS: '500',
      SESSION_ABSOLUTE_TIMEOUT: '3600',
      OIDC_POST_LOGOUT_REDIRECT_URI: 'https://app.example/bye',
      OIDC_REFRESH_SKEW: '45',
      OIDC_FETCH_USERINFO: 'true',
      SESSION_SECRET_PREVIOUS: `${'a'.repeat(32)}, ${'b'.repeat(32)}`,
      OIDC_RESTART_STALE_LOGINS: 'no',
    });
    expect(options).toEqual({
      issuer: 'https://as.example',
      clientId: 'app',
      clientAuthMethod: 'client_secret_basic',
      clientSecret: ' spaced secret ',
      scope: 'openid email',
      baseUrl: 'https://app.example',
      sessionSecret: SECRET,
      httpTimeoutMs: 2500,
      authorizationParams: { prompt: 'login', acr_values: 'urn:loa:2' },
      sessionCookieName: 'sid',
      assertionAudience: 'endpoint',
      loginGraceSeconds: 120,
      clockToleranceSeconds: 5,
      sessionAbsoluteTimeoutSeconds: 3600,
      postLogoutRedirectUri: 'https://app.example/bye',
      sessionIdleTimeoutSeconds: 600,
      sessionEncryptionKey: ['first-key-0123456789', 'second-key-0123456789'],
      redisUrl: 'redis://127.0.0.1:6379',
      sessionPrefix: 'app1:',
      redisCommandTimeoutMs: 500,
      refreshSkewSeconds: 45,
      fetchUserinfo: true,
      previousSessionSecrets: ['a'.repeat(32), 'b'.repeat(32)],
      restartStaleLogins: false,
    });
  });

  it('treats empty variables as unset and keeps non-numbers for validation to report', () => {
    const options = configFromEnv({ OIDC_ISSUER: '  ', OIDC_HTTP_TIMEOUT_MS: '5s' });
    expect(options).toEqual({ httpTimeoutMs: '5s' });
    expect(() => resolveConfig({ ...valid, ...configFromEnv({ OIDC_FETCH_USERINFO: 'maybe' }) })).toThrow(
      /OIDC_FETCH_USERINFO\) must be true or false \(got "maybe"\)/,
    );
    expect(() => resolveConfig({ ...valid, ...options })).toThrow(/OIDC_HTTP_TIMEOUT_MS.*got "5s"/);
  });
});
