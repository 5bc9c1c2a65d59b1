import { describe, expect, it } from '@jest/globals';
import { apiProxy } from '../src/api-proxy.js';

describe('apiProxy options', () => {
  it.each([
    ['a relative target', { target: '/v1' }],
    ['a non-http target', { target: 'ftp://api.example/' }],
    ['a target with credentials', { target: 'https://user:pw@api.example/' }],
    ['a target with a query', { target: 'https://api.example/?a=1' }],
    ['an empty anti-forgery header', { target: 'https://api.example/', antiForgery: { header: '', value: '1' } }],
    ['an anti-forgery switched off', { target: 'https://api.example/', antiForgery: false as never }],
    ['a tiny timeout', { target: 'https://api.example/', timeoutMs: 5 }],
  ])('refuses %s with ERR_INVALID_ARG_VALUE', (_name, options) => {
    expect(() => apiProxy(options)).toThrow(expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' }));
  });

  it('accepts a plain target and closes its pool', async () => {
    const proxy = apiProxy({ target: 'https://api.example/v1' });
    expect(typeof proxy).toBe('function');
    await expect(proxy.close()).resolves.toBeUndefined();
  });
});
