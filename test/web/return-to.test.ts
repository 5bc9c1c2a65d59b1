import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { safeReturnTo } from '../../src/web/return-to.js';

describe('safeReturnTo', () => {
  it.each(['/', '/profile', '/a/b?x=1&y=%2F#frag', '/%2F%2Fevil.example', '/search?q=//x'])(
    'keeps the local path %s',
    (path) => {
      expect(safeReturnTo(path)).toBe(path);
    },
  );

  it.each([
    'https://evil.example/',
    'http:evil.example',
    '//evil.example',
    '///evil.example',
    '/\\evil.example',
    '\\\\evil.example',
    'javascript:alert(1)',
    'data:text/html,x',
    'profile',
    '',
    ' /profile',
    '/pro\nfile',
    '/pro\tfile',
    '/\u0000x',
    '/x\u007f',
    '/\u0085x',
    '/a b',
    `/${'a'.repeat(2100)}`,
  ])('refuses %j', (value) => {
    expect(safeReturnTo(value)).toBe('/');
  });

  it('refuses non-strings (repeated query parameters arrive as arrays)', () => {
    expect(safeReturnTo(['/a', '/b'])).toBe('/');
    expect(safeReturnTo(undefined)).toBe('/');
    expect(safeReturnTo({ toString: () => '/x' })).toBe('/');
  });

  it('never yields anything that a browser would resolve off-site (fuzzed)', () => {
    const origin = 'https://app.example';
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.webUrl(),
          fc.string().map((s) => `/${s}`),
          fc.string().map((s) => `//${s}`),
          fc.fullUnicodeString().map((s) => `/${s}`),
        ),
        (value) => {
          const result = safeReturnTo(value);
          expect(new URL(result, origin).origin).toBe(origin);
          expect(result.startsWith('/')).toBe(true);
          expect(result.startsWith('//')).toBe(false);
          // eslint-disable-next-line no-control-regex -- the test is that no control character is left
          expect(result).not.toMatch(/[\u0000-\u001f\\]/);
          expect(result).toMatch(/^[\u0021-\u007e]+$/); // fits a Location header as is
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('percent-encodes non-ASCII paths, queries and fragments (a Location header is ASCII)', () => {
    expect(safeReturnTo('/café?q=ü#ß')).toBe('/caf%C3%A9?q=%C3%BC#%C3%9F');
    expect(new URL(safeReturnTo('/café'), 'https://app.example').pathname).toBe('/caf%C3%A9');
  });
});
