/**
 * Key material in the configuration (security review finding 7): PEM text that does not start with
 * `-----BEGIN` (e.g. `openssl pkcs12 -nodes` output) still loads, and a value that may be key
 * material is never quoted in a configuration problem or the doctor's output.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { generateKeyPairSync } from 'node:crypto';
import { ConfigError } from '../../src/errors.js';
import { resolveConfig } from '../../src/config/resolve-config.js';
import { checkEnvironment } from '../../src/doctor/environment-check.js';
import { createTestPki, type TestPki } from '../helpers/certs.js';

const BASE = {
  issuer: 'https://as.example',
  clientId: 'app',
  baseUrl: 'https://app.example',
  sessionSecret: 's'.repeat(40),
};
const BAG =
  'Bag Attributes\n    localKeyID: 01 02 03 04\n    friendlyName: app\nKey Attributes: <No Attributes>\n';

let pki: TestPki;
beforeAll(() => {
  pki = createTestPki();
});
afterAll(() => pki.remove());

/** The problems of `options`, as one text. */
function problemsOf(options: Record<string, unknown>): string {
  try {
    resolveConfig({ ...BASE, ...options });
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  return '';
}

describe('PEM values with text before them', () => {
  it('load a client certificate and key written by openssl pkcs12 -nodes', () => {
    const client = pki.client('app');
    const config = resolveConfig({
      ...BASE,
      clientAuthMethod: 'tls_client_auth',
      tlsClientCert: `${BAG}subject=/CN=app\nissuer=/CN=ca\n${client.cert}`,
      tlsClientKey: `${BAG}${client.key}`,
    });
    expect(config.tls?.key).toContain('-----BEGIN');
    expect(config.tls?.key?.startsWith('Bag')).toBe(false);
  });

  it('load a private key for private_key_jwt', () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const config = resolveConfig({
      ...BASE,
      clientAuthMethod: 'private_key_jwt',
      privateKey: `${BAG}${pem}`,
    });
    expect(config.signingKey?.alg).toBe('ES256');
  });
});

describe('values that may be key material', () => {
  /** A private key's base64 body without its BEGIN/END lines: not PEM, not a path. */
  const body = (): string =>
    pki
      .client('leaky')
      .key.split('\n')
      .filter((text) => text !== '' && !text.startsWith('-----'))
      .join('\n');

  it('are never quoted in a configuration problem', () => {
    const secret = body();
    const message = problemsOf({
      clientAuthMethod: 'tls_client_auth',
      tlsClientCert: pki.client('x').cert,
      tlsClientKey: secret,
    });
    expect(message).toContain(
      `tlsClientKey (OIDC_TLS_CLIENT_KEY) is neither PEM text nor a readable file path (a value of ${secret.length} characters, not shown)`,
    );
    for (const text of secret.split('\n')) expect(message).not.toContain(text);
  });

  it.each([
    ['a key body on one line, as an environment variable may hold it', () => body().replace(/\n/g, '')],
    [
      'a private JWK (JSON)',
      () =>
        JSON.stringify(
          generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }),
        ),
    ],
    ['a key whose BEGIN line lost a dash', () => pki.client('dash').key.replace('-----BEGIN', '----BEGIN')],
  ])('are never quoted when they are %s', (_name, make) => {
    const secret = make();
    const message = problemsOf({ tlsCa: secret });
    expect(message).toContain(
      `tlsCa (OIDC_TLS_CA) is neither PEM text nor a readable file path (a value of ${secret.length}`,
    );
    for (const text of secret.split(/[\n",]/).filter((part) => part.length > 8))
      expect(message).not.toContain(text);
  });

  it("are never quoted in the doctor's output", () => {
    const secret = body();
    const check = checkEnvironment({
      OIDC_ISSUER: 'https://as.example',
      OIDC_CLIENT_ID: 'app',
      OIDC_CLIENT_AUTH_METHOD: 'tls_client_auth',
      OIDC_TLS_CLIENT_CERT: pki.client('y').cert,
      OIDC_TLS_CLIENT_KEY: secret,
      APP_BASE_URL: 'https://app.example',
      SESSION_SECRET: 's'.repeat(40),
    });
    const output = JSON.stringify(check.results);
    expect(output).toContain('OIDC_TLS_CLIENT_KEY');
    for (const text of secret.split('\n')) expect(output).not.toContain(text.slice(0, 40));
  });

  it('still quote a path that does not exist, which is no secret', () => {
    expect(problemsOf({ tlsCa: '/etc/ssl/missing-ca.pem' })).toContain(
      'tlsCa (OIDC_TLS_CA) cannot be read (file "/etc/ssl/missing-ca.pem")',
    );
  });
});
