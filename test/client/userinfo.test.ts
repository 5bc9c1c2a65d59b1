import { describe, expect, it } from '@jest/globals';
import type { BackChannel, BackChannelResponse } from '../../src/client/http.js';
import type { IdTokenClaims } from '../../src/client/id-token.js';
import { mergeUserinfo } from '../../src/client/userinfo.js';

const tokens = { accessToken: 'at-1', tokenType: 'Bearer', idToken: 'id' };
const claims: IdTokenClaims = {
  sub: 'alice',
  iss: 'https://as.example',
  aud: 'c',
  iat: 1,
  exp: 2,
  name: 'Alice',
  nonce: 'n',
};

/** A back channel answering the userinfo GET with `response`, remembering the request. */
function channel(response: Partial<BackChannelResponse>) {
  const calls: Array<{ url: string; headers: Record<string, string> | undefined }> = [];
  const http: BackChannel = {
    get: (url, _what, headers) => {
      calls.push({ url, headers });
      return Promise.resolve({ status: 200, headers: {}, json: undefined, ...response });
    },
    postForm: () => Promise.reject(new Error('not used')),
    close: async () => {},
  };
  return { http, calls };
}

describe('mergeUserinfo', () => {
  it("sends the access token and merges claims over the ID token's, protocol claims excepted", async () => {
    const { http, calls } = channel({
      json: {
        sub: 'alice',
        name: 'Alice Updated',
        email: 'a@x.test',
        iss: 'https://evil.example',
        nonce: 'x',
      },
    });
    const merged = await mergeUserinfo(http, 'https://as.example/me', tokens, claims);
    expect(calls).toEqual([{ url: 'https://as.example/me', headers: { authorization: 'Bearer at-1' } }]);
    expect(merged).toEqual({ ...claims, name: 'Alice Updated', email: 'a@x.test' });
  });

  it.each([
    ['another sub', { json: { sub: 'mallory', name: 'M' } }],
    ['no sub', { json: { name: 'M' } }],
    ['a signed (non-JSON) body', { json: undefined }],
    ['an error status', { status: 401, json: { error: 'invalid_token' } }],
  ])('refuses %s with userinfo_error (502)', async (_name, response) => {
    await expect(
      mergeUserinfo(channel(response).http, 'https://as.example/me', tokens, claims),
    ).rejects.toMatchObject({ code: 'userinfo_error', status: 502 });
  });
});
