/**
 * Key material in the doctor's output (security review finding 7), run as `express-par-login
 * doctor` is: PEM text with lines before it (`openssl pkcs12 -nodes` writes `Bag Attributes`)
 * loads, and a key that cannot be read (junk before a mangled BEGIN line, a JWK with a typo) is
 * reported without any line of it. The issuer refuses connections: only the environment matters.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { generateKeyPairSync } from 'node:crypto';
import { runCli } from '../../src/doctor/cli.js';
import { createTestPki, type TestPki } from '../helpers/certs.js';
import { refusedUrl } from '../helpers/hostile-stack.js';

const BAG =
  'Bag Attributes\n    localKeyID: 5A 0B 31 C2\n    friendlyName: app\nKey Attributes: <No Attributes>\n';
const JUNK = 'copied from the vault on Monday:\n\n';

let pki: TestPki;
let issuer: string;
beforeAll(async () => {
  pki = createTestPki();
  issuer = (await refusedUrl()).replace(/\/$/, '');
});
afterAll(() => pki.remove());

/** Run the doctor's CLI on `env` over a minimal valid configuration; what it printed. */
async function doctor(env: NodeJS.ProcessEnv): Promise<string> {
  let printed = '';
  const collect = (text: string): void => void (printed += text);
  await runCli(
    ['doctor'],
    {
      OIDC_ISSUER: issuer,
      OIDC_CLIENT_ID: 'app',
      APP_BASE_URL: 'http://localhost:3000',
      SESSION_SECRET: 'doctor-key-material-session-secret-0123456789',
      ...env,
    },
    { out: collect, err: collect },
  );
  return printed;
}

/** The lines of `pem` that carry key material (its base64 body). */
const bodyLines = (pem: string): string[] =>
  pem.split('\n').filter((line) => line.length > 8 && !line.startsWith('-----'));

function expectNone(output: string, lines: readonly string[]): void {
  expect(lines.length).toBeGreaterThan(0);
  for (const line of lines) expect(output).not.toContain(line);
}

const ecPem = (): string =>
  generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({
    type: 'pkcs8',
    format: 'pem',
  }) as string;

describe("the doctor's environment check", () => {
  it('loads a client certificate and key with Bag Attributes before them, quoting neither', async () => {
    const client = pki.client('bag');
    const output = await doctor({
      OIDC_CLIENT_AUTH_METHOD: 'tls_client_auth',
      OIDC_TLS_CLIENT_CERT: `${BAG}subject=/CN=bag\n${client.cert}`,
      OIDC_TLS_CLIENT_KEY: `${BAG}${client.key}`,
    });
    expect(output).toMatch(/^ {2}ok {4}Environment variables: .*tls_client_auth/m);
    expectNone(output, bodyLines(client.key));
  });

  it('loads a private key for private_key_jwt with junk before it', async () => {
    const pem = ecPem();
    const output = await doctor({
      OIDC_CLIENT_AUTH_METHOD: 'private_key_jwt',
      OIDC_PRIVATE_KEY: `${JUNK}${pem}`,
    });
    expect(output).toMatch(/^ {2}ok {4}Environment variables: .*private_key_jwt/m);
    expectNone(output, bodyLines(pem));
  });

  it('reports a TLS key with junk before a mangled BEGIN line by its length only', async () => {
    const client = pki.client('mangled');
    const key = `${JUNK}${client.key.replace('-----BEGIN', '----BEGIN')}`;
    const output = await doctor({
      OIDC_CLIENT_AUTH_METHOD: 'tls_client_auth',
      OIDC_TLS_CLIENT_CERT: client.cert,
      OIDC_TLS_CLIENT_KEY: key,
    });
    expect(output).toContain(
      `FAIL  Environment variables: tlsClientKey (OIDC_TLS_CLIENT_KEY) is neither PEM text nor a readable ` +
        `file path (a value of ${key.trim().length} characters, not shown)`,
    );
    expectNone(output, [...bodyLines(client.key), 'copied from the vault']);
  });

  it.each([
    ['junk before a mangled BEGIN line', () => `${JUNK}${ecPem().replace('-----BEGIN', '----BEGIN')}`],
    [
      'a JWK with a typo',
      () =>
        JSON.stringify(
          generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }),
        ).replace('{', '{,'),
    ],
  ])('reports a private key with %s without any line of it', async (_name, make) => {
    const key = make();
    const output = await doctor({ OIDC_CLIENT_AUTH_METHOD: 'private_key_jwt', OIDC_PRIVATE_KEY: key });
    expect(output).toContain(
      'FAIL  Environment variables: privateKey (OIDC_PRIVATE_KEY) is not a private key',
    );
    expectNone(
      output,
      key.split(/[\n",]/).filter((part) => part.length > 8),
    );
  });
});
