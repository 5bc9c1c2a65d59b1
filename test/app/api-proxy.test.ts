import { describe, expect, it } from '@jest/globals';
import { apiProxy } from '../../src/app/api-proxy.js';

describe('apiProxy options', () => {
  it.each([
    ['a relative target', { target: '/v1' }],
    ['a non-http target', { target: 'ftp://api.example/' }],
    ['a target with credentials', { target: 'https://user:pw@api.example/' }],
    ['a target with a query', { target: 'https://api.example/?a=1' }],
    [
      'an empty anti-forgery header',
      { target: 'https://api.example/', antiForgery: { header: '', value: '1' } },
    ],
    ['an anti-forgery switched off', { target: 'https://api.example/', antiForgery: false as never }],
    ['a tiny timeout', { target: 'https://api.example/', timeoutMs: 5 }],
  ])('refuses %s with ERR_INVALID_ARG_VALUE', (_name, options) => {
    expect(() => apiProxy(options)).toThrow(
      expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' }),
    );
  });

  it('refuses a client certificate without its key, or one that is not PEM, naming the option and never the content', () => {
    const pem = '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n';
    expect(() => apiProxy({ target: 'https://api.example/', tlsClientCert: pem })).toThrow(
      /tlsClientKey is required with tlsClientCert/,
    );
    let message = '';
    try {
      apiProxy({
        target: 'https://api.example/',
        tlsClientCert: pem,
        tlsClientKey:
          '-----BEGIN PRIVATE KEY-----\nc2VjcmV0LWtleS1tYXRlcmlhbA==\n-----END PRIVATE KEY-----\n',
      });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/tlsClientCert is not a PEM certificate/);
    expect(message).toMatch(/tlsClientKey is not a PEM private key/);
    expect(message).not.toContain('c2VjcmV0');
  });

  it('accepts a plain target and closes its pool', async () => {
    const proxy = apiProxy({ target: 'https://api.example/v1' });
    expect(typeof proxy).toBe('function');
    await expect(proxy.close()).resolves.toBeUndefined();
  });
});
