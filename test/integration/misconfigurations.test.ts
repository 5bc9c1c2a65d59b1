/**
 * Common misconfigurations, each against oidc-provider as a new user makes them: what the browser's
 * page says (the sign-in is not set up correctly, with the code and a reference; never "try again")
 * and what the log record under that reference says (the code, the AS's own error and description,
 * the hint that names what to check, and the pointer to the doctor). The app keeps serving.
 */
import { describe, expect, it } from '@jest/globals';
import { exportJWK, generateKeyPair } from 'jose';
import { createApp } from '../../sample-app/app.js';
import type { ParLoginOptions } from '../../src/index.js';
import { startStack, type StackOptions } from '../helpers/stack.js';

const MISCONFIGURED = 'Sign-in is not set up correctly for this site, so trying again will not help.';
const DOCTOR = 'npx express-par-login doctor';

/** A key pair the AS has never seen. */
async function strangerKey() {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  return { ...(await exportJWK(privateKey)), kid: 'not-registered', alg: 'ES256' };
}

interface Case {
  stack: () => Promise<StackOptions>;
  code: string;
  /** What the log record must also carry. */
  record: Record<string, unknown>;
}

const CASES: Record<string, Case> = {
  'a wrong client secret': {
    stack: () => Promise.resolve({ overrides: { clientSecret: 'not-the-registered-secret' } }),
    code: 'par_error',
    record: { as_error: 'invalid_client', hint: expect.stringContaining('OIDC_CLIENT_AUTH_METHOD') },
  },
  'an unknown client id': {
    stack: () => Promise.resolve({ overrides: { clientId: 'no-such-client' } }),
    code: 'par_error',
    record: { as_error: 'invalid_client', hint: expect.stringContaining('OIDC_CLIENT_ID') },
  },
  'an authentication method the client is not registered for': {
    stack: () => Promise.resolve({ overrides: { clientAuthMethod: 'client_secret_post' } }),
    code: 'par_error',
    record: { as_error: 'invalid_client', hint: expect.stringContaining('OIDC_CLIENT_AUTH_METHOD') },
  },
  'a private key the AS does not know': {
    stack: async () => ({ authMethod: 'private_key_jwt', overrides: { privateKey: await strangerKey() } }),
    code: 'par_error',
    record: { as_error: 'invalid_client', hint: expect.stringContaining('private_key_jwt') },
  },
  'an unregistered redirect URI': {
    stack: () =>
      Promise.resolve({
        configureAs: (configuration) => {
          for (const client of configuration.clients ?? [])
            client.redirect_uris = ['http://127.0.0.1:9/elsewhere'];
        },
      }),
    code: 'par_error',
    record: {
      as_error: 'invalid_request',
      as_error_description: expect.stringContaining('redirect_uri'),
    },
  },
  'an issuer written with a trailing slash the AS does not use': {
    stack: () =>
      Promise.resolve({
        buildApp: (options: ParLoginOptions) => createApp({ ...options, issuer: `${options.issuer}/` }),
      }),
    code: 'discovery_failed',
    record: {
      error: expect.stringContaining('not the configured'),
      hint: expect.stringContaining('OIDC_ISSUER'),
    },
  },
};

describe('a misconfigured app', () => {
  it.each(Object.entries(CASES))(
    'with %s says so on the page and names the cause in the log',
    async (_name, c) => {
      const stack = await startStack(await c.stack());
      try {
        const browser = stack.browser();
        const page = await browser.navigate(`${stack.appUrl}/login`);
        expect(page.status).toBe(502);
        expect(page.body).toContain(MISCONFIGURED);
        expect(page.body).toContain(`<code>${c.code}</code>`);
        expect(page.body).not.toContain('try again in a moment');
        const reference = /<code>([0-9a-f-]{8,})<\/code>/.exec(page.body)?.[1];
        const record = stack.logs.find((r) => r.id === reference);
        expect(record).toMatchObject({
          level: 'error',
          code: c.code,
          doctor: expect.stringContaining(DOCTOR),
        });
        expect(record).toMatchObject(c.record);
        expect(JSON.stringify(stack.logs)).not.toContain(stack.clientSecret);
        // Nothing else broke: the public page is served.
        expect((await browser.navigate(`${stack.appUrl}/`)).status).toBe(200);
      } finally {
        await stack.close();
      }
    },
  );
});
