/**
 * Back-channel logout under `profile: 'fapi2'` against oidc-provider running its FAPI 2.0 profile
 * (security review finding 10): logout tokens are held to the profile's algorithms (PS256, ES256,
 * EdDSA: FAPI 2.0 §5.4.1) like ID tokens. The AS itself signs them, with a 2048-bit RSA key it
 * publishes: RS256 is refused (400 `logout_token_invalid`, the session kept), PS256 ends the session.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import type { Configuration, Provider } from 'oidc-provider';
import { request as http } from 'undici';
import type { Browser } from '../helpers/browser.js';
import { startStack, type Stack } from '../helpers/stack.js';

/** oidc-provider's FAPI 2.0 profile, with DPoP, and an RSA key of 2048 bits next to its EC key. */
function fapi2WithRsaKey(config: Configuration): void {
  config.features!.fapi = { enabled: true, profile: '2.0' } as never;
  config.features!.dPoP = { enabled: true };
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const rsa = { ...privateKey.export({ format: 'jwk' }), kid: 'rsa-2048', use: 'sig' };
  config.jwks = { keys: [...(config.jwks?.keys ?? []), rsa] };
}

/**
 * A logout token made by oidc-provider's own code (as its back-channel logout sends), signed with
 * `alg`: the client is seen through a view whose `id_token_signed_response_alg` is `alg`.
 */
async function logoutToken(provider: Provider, alg: 'RS256' | 'PS256', sid: string): Promise<string> {
  const client = await provider.Client.find('jwt-client');
  const signer = Object.create(client!, { idTokenSignedResponseAlg: { value: alg } }) as typeof client;
  const token = new provider.IdToken({ sub: 'alice' }, { client: signer!, ctx: undefined as never });
  (token as unknown as { mask: unknown }).mask = { sub: null };
  token.set('events', { 'http://schemas.openid.net/event/backchannel-logout': {} });
  token.set('jti', randomUUID());
  token.set('sid', sid);
  return token.issue({ use: 'logout' });
}

const header = (token: string): unknown =>
  JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString('utf8'));

describe('back-channel logout under profile fapi2 (oidc-provider, FAPI 2.0)', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({
      authMethod: 'private_key_jwt',
      configureAs: fapi2WithRsaKey,
      overrides: { profile: 'fapi2' },
    });
  });
  afterAll(() => stack.close());

  async function loggedIn(): Promise<{ browser: Browser; sid: string }> {
    const browser = stack.browser();
    await browser.login(stack.appUrl);
    const me = await browser.navigate(`${stack.appUrl}/me`);
    expect(me.status).toBe(200);
    return { browser, sid: (JSON.parse(me.body) as { claims: { sid: string } }).claims.sid };
  }

  async function postLogout(token: string): Promise<{ status: number; error?: string }> {
    const res = await http(`${stack.appUrl}/backchannel-logout`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ logout_token: token }).toString(),
    });
    const text = await res.body.text();
    return { status: res.statusCode, ...(text ? (JSON.parse(text) as { error?: string }) : {}) };
  }

  it('refuses a logout token signed RS256 (400 logout_token_invalid) and keeps the session', async () => {
    const { browser, sid } = await loggedIn();
    const token = await logoutToken(stack.provider, 'RS256', sid);
    expect(header(token)).toMatchObject({ alg: 'RS256', kid: 'rsa-2048' });
    expect(await postLogout(token)).toMatchObject({ status: 400, error: 'logout_token_invalid' });
    expect(stack.logs.find((r) => r.code === 'logout_token_invalid')?.error).toMatch(
      /signing algorithm is not allowed/,
    );
    expect((await browser.navigate(`${stack.appUrl}/me`)).status).toBe(200);
  });

  it('accepts one signed PS256 with the same key and ends the session', async () => {
    const { browser, sid } = await loggedIn();
    const token = await logoutToken(stack.provider, 'PS256', sid);
    expect(header(token)).toMatchObject({ alg: 'PS256', kid: 'rsa-2048' });
    expect(await postLogout(token)).toMatchObject({ status: 200 });
    expect((await browser.navigate(`${stack.appUrl}/me`)).status).toBe(401);
  });
});
