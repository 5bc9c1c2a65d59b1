/**
 * The token request with DPoP, against a fake back channel: FAPI 2.0 refuses a Bearer token when
 * a DPoP-bound one was asked for; a proof is sent with every attempt.
 */
import { describe, expect, it } from '@jest/globals';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import type { ClientAuthentication } from '../../src/client/client-auth.js';
import { createDpopProof, generateDpopKey } from '../../src/client/dpop.js';
import type { BackChannel, BackChannelResponse } from '../../src/client/http.js';
import { exchangeCode, readTokenResponse } from '../../src/client/token.js';

const auth: ClientAuthentication = {
  method: 'client_secret_basic',
  apply: () => Promise.resolve({ authorization: 'Basic x' }),
};
const TOKENS = { access_token: 'at', token_type: 'Bearer', id_token: 'a.b.c' };

function backChannel(answers: BackChannelResponse[], seen: Array<Record<string, string>>): BackChannel {
  return {
    get: () => Promise.reject(new Error('unused')),
    postForm: (_url, _form, headers) => {
      seen.push(headers);
      return Promise.resolve(answers.shift()!);
    },
    close: () => Promise.resolve(),
  };
}

const exchange = {
  code: 'c',
  codeVerifier: 'v',
  redirectUri: 'https://app.example/callback',
  clientId: 'app',
};

describe('exchangeCode with DPoP', () => {
  it('refuses a Bearer token when DPoP binding is required (FAPI 2.0)', async () => {
    const dpopKey = await generateDpopKey();
    const seen: Array<Record<string, string>> = [];
    const http = backChannel([{ status: 200, headers: {}, json: TOKENS }], seen);
    await expect(
      exchangeCode(http, auth, 'https://as.example/token', {
        ...exchange,
        dpopKey,
        requireDpopBinding: true,
      }),
    ).rejects.toMatchObject({
      code: 'token_error',
      message: expect.stringContaining('Bearer token although a DPoP-bound one'),
    });
    expect(decodeProtectedHeader(seen[0]!.dpop!).typ).toBe('dpop+jwt');
  });

  it('accepts a Bearer token without required binding (the AS ignores DPoP)', async () => {
    const http = backChannel([{ status: 200, headers: {}, json: TOKENS }], []);
    expect(
      (
        await exchangeCode(http, auth, 'https://as.example/token', {
          ...exchange,
          dpopKey: await generateDpopKey(),
        })
      ).tokenType,
    ).toBe('Bearer');
  });

  it('refuses token_type DPoP when no proof was sent', () => {
    expect(() => readTokenResponse({ ...TOKENS, token_type: 'DPoP' })).toThrow(/not Bearer/);
  });
});

describe('createDpopProof', () => {
  it('binds the access token with ath, drops the query from htu, and carries the public key only', async () => {
    const key = await generateDpopKey();
    const proof = await createDpopProof(key, {
      htm: 'GET',
      htu: 'https://api.example/x?y=1#z',
      accessToken: 'token-1',
      nonce: 'n',
    });
    const header = decodeProtectedHeader(proof);
    expect(header.jwk).toEqual(key.publicJwk);
    expect((header.jwk as Record<string, unknown>).d).toBeUndefined();
    expect(decodeJwt(proof)).toMatchObject({
      htm: 'GET',
      htu: 'https://api.example/x',
      nonce: 'n',
      ath: (await import('node:crypto')).createHash('sha256').update('token-1').digest('base64url'),
    });
  });
});
