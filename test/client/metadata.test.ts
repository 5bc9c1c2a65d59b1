import { describe, expect, it } from '@jest/globals';
import type { BackChannel, BackChannelResponse } from '../../src/client/http.js';
import { createMetadataSource, discoveryUrl } from '../../src/client/metadata.js';

const issuer = 'https://as.example';
const document = {
  issuer,
  authorization_endpoint: `${issuer}/auth`,
  token_endpoint: `${issuer}/token`,
  jwks_uri: `${issuer}/jwks`,
  pushed_authorization_request_endpoint: `${issuer}/par`,
};

/** A back channel answering discovery from a script of responses (no network in unit tests). */
function scripted(answers: Array<() => Promise<BackChannelResponse>>): BackChannel & { urls: string[] } {
  const urls: string[] = [];
  return {
    urls,
    get: (url) => {
      urls.push(url);
      const next = answers.shift();
      if (!next) throw new Error('unexpected request');
      return next();
    },
    postForm: () => Promise.reject(new Error('not used')),
    close: async () => {},
  };
}

const ok = (json: unknown) => (): Promise<BackChannelResponse> =>
  Promise.resolve({ status: 200, headers: {}, json });

describe('discovery', () => {
  it('builds the well-known URL without a double slash', () => {
    expect(discoveryUrl('https://as.example/tenant/')).toBe(
      'https://as.example/tenant/.well-known/openid-configuration',
    );
  });

  it('is single-flight and cached', async () => {
    const http = scripted([ok(document)]);
    const source = createMetadataSource(issuer, http);
    const [a, b] = await Promise.all([source.get(), source.get()]);
    expect(a).toBe(b);
    await source.get();
    expect(http.urls).toEqual([`${issuer}/.well-known/openid-configuration`]);
  });

  it('retries after a failure instead of caching it', async () => {
    const http = scripted([() => Promise.reject(new Error('down')), ok(document)]);
    const source = createMetadataSource(issuer, http);
    await expect(source.get()).rejects.toThrow('down');
    await expect(source.get()).resolves.toMatchObject({ issuer });
    expect(http.urls).toHaveLength(2);
  });

  it.each<[string, unknown, RegExp]>([
    [
      'an issuer that lies',
      { ...document, issuer: 'https://evil.example' },
      /issuer "https:\/\/evil.example"/,
    ],
    ['no token endpoint', { ...document, token_endpoint: undefined }, /no valid token_endpoint/],
    [
      'a plain-http endpoint',
      { ...document, authorization_endpoint: 'http://as.example/auth' },
      /no valid authorization_endpoint/,
    ],
    [
      'an invalid PAR endpoint',
      { ...document, pushed_authorization_request_endpoint: 'not a url' },
      /invalid pushed_authorization_request_endpoint/,
    ],
    ['a non-object', [1, 2], /without a JSON object/],
  ])('refuses %s with discovery_failed', async (_name, json, message) => {
    const source = createMetadataSource(issuer, scripted([ok(json)]));
    await expect(source.get()).rejects.toMatchObject({ code: 'discovery_failed', status: 502, message });
  });

  it('refuses a non-200 answer', async () => {
    const source = createMetadataSource(
      issuer,
      scripted([() => Promise.resolve({ status: 404, headers: {}, json: undefined })]),
    );
    await expect(source.get()).rejects.toMatchObject({ code: 'discovery_failed', message: /answered 404/ });
  });
});

describe('plain-http endpoints (security review finding 11)', () => {
  it.each([
    ['token_endpoint', 'http://127.0.0.1:8080/token'],
    ['pushed_authorization_request_endpoint', 'http://localhost/par'],
    ['jwks_uri', 'http://[::1]/jwks'],
  ])('are refused for a remote https issuer: %s at %s', async (name, url) => {
    const source = createMetadataSource(issuer, scripted([ok({ ...document, [name]: url })]));
    await expect(source.get()).rejects.toMatchObject({
      code: 'discovery_failed',
      message:
        `Discovery's ${name} is plain http on ${new URL(url).origin}: accepted only when the issuer ` +
        `is on a loopback host too, and ${issuer} is not.`,
    });
  });

  it('are refused as an mtls_endpoint_aliases entry too, naming it', async () => {
    const aliases = { token_endpoint: 'http://127.0.0.1:8443/token' };
    const source = createMetadataSource(
      issuer,
      scripted([ok({ ...document, mtls_endpoint_aliases: aliases })]),
    );
    await expect(source.get()).rejects.toMatchObject({
      code: 'discovery_failed',
      message: expect.stringContaining("Discovery's mtls_endpoint_aliases.token_endpoint is plain http"),
    });
  });

  it('keep the general message for other bad endpoints', async () => {
    const source = createMetadataSource(
      issuer,
      scripted([ok({ ...document, token_endpoint: 'http://as.example/token' })]),
    );
    await expect(source.get()).rejects.toMatchObject({ message: 'Discovery has no valid token_endpoint.' });
  });

  it('are accepted on loopback for a loopback issuer (development)', async () => {
    const local = 'http://127.0.0.1:3001';
    const source = createMetadataSource(
      local,
      scripted([
        ok({
          issuer: local,
          authorization_endpoint: `${local}/auth`,
          token_endpoint: `${local}/token`,
          jwks_uri: `${local}/jwks`,
        }),
      ]),
    );
    await expect(source.get()).resolves.toMatchObject({ token_endpoint: `${local}/token` });
  });
});
