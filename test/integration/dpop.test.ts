/**
 * DPoP (RFC 9449) against oidc-provider with DPoP nonces required: `dpop_jkt` at PAR (§10), a
 * proof at the token endpoint, the `use_dpop_nonce` retry (§8), a DPoP-bound access token, the
 * key kept per session or per instance.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { calculateJwkThumbprint, decodeJwt, decodeProtectedHeader, type JWK } from 'jose';
import type { Configuration } from 'oidc-provider';
import { createApp } from '../../sample-app/app.js';
import type { DpopMode, ParLoginOptions } from '../../src/index.js';
import { backChannel, startStack, type Stack } from '../helpers/stack.js';

function withDetails(options: ParLoginOptions) {
  const app = createApp(options);
  app.get('/token-type', (req, res) => void res.json({ tokenType: req.auth.tokenType ?? null }));
  return app;
}

function requireDpopNonces(config: Configuration): void {
  config.features!.dPoP = { enabled: true, nonceSecret: randomBytes(32), requireNonce: () => true };
}

describe.each<DpopMode>(['session', 'instance'])('DPoP with the key per %s', (mode) => {
  let stack: Stack;
  const bound: Array<string | undefined> = [];
  beforeAll(async () => {
    stack = await startStack({
      authMethod: 'private_key_jwt',
      configureAs: requireDpopNonces,
      overrides: { dpop: mode },
      buildApp: withDetails as never,
    });
    (stack.provider as unknown as NodeJS.EventEmitter).on(
      'access_token.saved',
      (token: { jkt?: string }) => void bound.push(token.jkt),
    );
  });
  afterAll(() => stack.close());

  async function loginOnce() {
    const before = stack.record.length;
    const browser = stack.browser();
    const hops = await browser.login(stack.appUrl, { returnTo: '/profile' });
    expect(hops.at(-1)!.body).toContain('Alice Example');
    const { tokenType } = JSON.parse(
      (await browser.request(`${stack.appUrl}/token-type`, { headers: { accept: 'application/json' } })).body,
    ) as { tokenType: string };
    return { requests: backChannel(stack.record.slice(before)), tokenType };
  }

  it('binds the code with dpop_jkt, retries the token request with the nonce, and gets a DPoP-bound token', async () => {
    const { requests, tokenType } = await loginOnce();
    const [par, firstToken, secondToken] = requests;
    expect(par!.endpoint).toBe('par');
    const jkt = String(par!.body.dpop_jkt);
    expect(jkt).toMatch(/^[A-Za-z0-9_-]{43}$/);

    expect(firstToken).toMatchObject({ endpoint: 'token', status: 400 });
    expect(secondToken).toMatchObject({ endpoint: 'token', status: 200 });
    const [first, second] = [firstToken!.dpop!, secondToken!.dpop!];
    expect(decodeProtectedHeader(first)).toMatchObject({ typ: 'dpop+jwt', alg: 'ES256' });
    expect(await calculateJwkThumbprint(decodeProtectedHeader(second).jwk as JWK)).toBe(jkt);
    expect(decodeJwt(first)).toMatchObject({ htm: 'POST', htu: `${stack.issuer}/token` });
    expect(decodeJwt(first).nonce).toBeUndefined();
    expect(typeof decodeJwt(second).nonce).toBe('string');
    expect(decodeJwt(second).jti).not.toBe(decodeJwt(first).jti);
    expect(secondToken!.body.client_assertion).not.toBe(firstToken!.body.client_assertion);

    expect(tokenType).toBe('DPoP');
    expect(bound.at(-1)).toBe(jkt);
  });

  it(
    mode === 'session' ? 'uses a new key for each login' : 'uses the instance key for every login',
    async () => {
      const one = String((await loginOnce()).requests[0]!.body.dpop_jkt);
      const two = String((await loginOnce()).requests[0]!.body.dpop_jkt);
      if (mode === 'session') expect(one).not.toBe(two);
      else expect(one).toBe(two);
    },
  );
});

describe('without DPoP', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ configureAs: requireDpopNonces, buildApp: withDetails as never });
  });
  afterAll(() => stack.close());

  it('sends no dpop_jkt and no proof, and keeps a Bearer token', async () => {
    const before = stack.record.length;
    const browser = stack.browser();
    await browser.login(stack.appUrl);
    const [par, token] = backChannel(stack.record.slice(before));
    expect(par!.body.dpop_jkt).toBeUndefined();
    expect(token!.dpop).toBeUndefined();
    expect(
      (
        JSON.parse(
          (await browser.request(`${stack.appUrl}/token-type`, { headers: { accept: 'application/json' } }))
            .body,
        ) as { tokenType: string }
      ).tokenType,
    ).toBe('Bearer');
  });
});
