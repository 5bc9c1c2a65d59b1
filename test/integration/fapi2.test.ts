/**
 * The FAPI 2.0 preset against oidc-provider running its FAPI 2.0 profile: private_key_jwt with the
 * issuer as audience, PAR, PKCE S256, DPoP-bound tokens, `iss` required on the callback.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { decodeJwt } from 'jose';
import type { Configuration } from 'oidc-provider';
import { createApp } from '../../sample-app/app.js';
import type { ParLoginOptions } from '../../src/index.js';
import { backChannel, startStack, type Stack } from '../helpers/stack.js';

function fapi2(config: Configuration): void {
  config.features!.fapi = { enabled: true, profile: '2.0' } as never;
  config.features!.dPoP = { enabled: true };
}

/** The AS stops advertising RFC 9207 (it still sends iss): the profile must require iss anyway. */
async function hideIssSupport(
  ctx: { path: string; body: unknown },
  next: () => Promise<unknown>,
): Promise<void> {
  await next();
  if (ctx.path === '/.well-known/openid-configuration')
    ctx.body = { ...(ctx.body as object), authorization_response_iss_parameter_supported: false };
}

function withTokenType(options: ParLoginOptions) {
  const app = createApp(options);
  app.get('/token-type', (req, res) => void res.json({ tokenType: req.auth.tokenType ?? null }));
  return app;
}

describe('profile fapi2 against oidc-provider (FAPI 2.0)', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      authMethod: 'private_key_jwt',
      configureAs: fapi2,
      overrides: { profile: 'fapi2' },
      buildApp: withTokenType as never,
      asMiddleware: [hideIssSupport],
    });
  });
  afterAll(() => stack.close());

  it('requires iss on a stateless invalid_request_uri response as on every other', async () => {
    const browser = stack.browser();
    const start = await browser.navigate(`${stack.appUrl}/login`);
    expect(start.status).toBe(303); // a pending login this response could be taken for
    const pushes = backChannel(stack.record).length;
    const res = await browser.request(`${stack.appUrl}/callback?error=invalid_request_uri`, {
      headers: { accept: 'application/json', 'sec-fetch-mode': 'cors' },
    });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toMatchObject({ error: 'iss_missing' });
    expect(backChannel(stack.record).length).toBe(pushes); // no fresh push for an unproven response
  });

  it('logs in with PAR, PKCE, a private_key_jwt addressed to the issuer and a DPoP-bound token', async () => {
    const before = stack.record.length;
    const browser = stack.browser();
    const hops = await browser.login(stack.appUrl, { returnTo: '/profile' });
    expect(hops.at(-1)!.body).toContain('Alice Example');
    const [par, token] = backChannel(stack.record.slice(before)).filter((r) => r.status < 300);
    expect(par!.body).toMatchObject({
      code_challenge_method: 'S256',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    });
    expect(typeof par!.body.dpop_jkt).toBe('string');
    expect(decodeJwt(String(par!.body.client_assertion)).aud).toBe(stack.issuer);
    expect(typeof token!.dpop).toBe('string');
    const { tokenType: type } = JSON.parse(
      (await browser.request(`${stack.appUrl}/token-type`, { headers: { accept: 'application/json' } })).body,
    ) as { tokenType: string };
    expect(type).toBe('DPoP');
  });

  it('requires iss on the callback even when the AS does not advertise RFC 9207', async () => {
    const discovery = (await (
      await fetch(`${stack.issuer}/.well-known/openid-configuration`)
    ).json()) as Record<string, unknown>;
    expect(discovery.authorization_response_iss_parameter_supported).toBe(false);
    const browser = stack.browser();
    const { callbackUrl } = await browser.stepUntilCallback(stack.appUrl);
    const url = new URL(callbackUrl);
    url.searchParams.delete('iss');
    const res = await browser.navigate(url.href);
    expect(res.status).toBe(400);
    expect(res.body).toContain('iss_missing');
  });

  it('refuses to start with a client_secret_basic configuration, listing every violation', async () => {
    await expect(
      startStack({
        configureAs: fapi2,
        overrides: { profile: 'fapi2', assertionAudience: 'endpoint', dpop: 'off' },
      }),
    ).rejects.toMatchObject({
      code: 'ERR_INVALID_CONFIG',
      problems: [
        expect.stringContaining('clientAuthMethod (OIDC_CLIENT_AUTH_METHOD) is client_secret_basic'),
        expect.stringContaining('assertionAudience (OIDC_ASSERTION_AUDIENCE) must be "issuer"'),
        expect.stringContaining('dpop (OIDC_DPOP) is off'),
      ],
    });
  });
});

describe('the same AS without the preset', () => {
  it('refuses a client that authenticates with the endpoint as audience (the AS enforces FAPI 2.0)', async () => {
    const stack = await startStack({
      authMethod: 'private_key_jwt',
      configureAs: fapi2,
      overrides: { assertionAudience: 'endpoint', dpop: 'session' },
    });
    try {
      const res = await stack.browser().request(`${stack.appUrl}/login`, {
        headers: { accept: 'application/json', 'sec-fetch-mode': 'cors' },
      });
      expect(res.status).toBe(502);
      expect(JSON.parse(res.body)).toMatchObject({ error: 'par_error' });
    } finally {
      await stack.close();
    }
  });
});
