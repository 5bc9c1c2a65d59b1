/** The cookies the middleware writes itself: one set of attributes, and an exact name lookup. */
import { describe, expect, it } from '@jest/globals';
import { hasCookie, setCookieValue } from '../../src/session/cookies.js';

describe('setCookieValue', () => {
  it('always writes Path=/, HttpOnly and SameSite=Lax, and Secure only when asked', () => {
    expect(setCookieValue('a', 'v', { maxAgeSeconds: 60 }, false)).toBe(
      'a=v; Max-Age=60; Path=/; HttpOnly; SameSite=Lax',
    );
    expect(setCookieValue('__Host-a', 'v', { maxAgeSeconds: 0 }, true)).toBe(
      '__Host-a=v; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Lax',
    );
    expect(setCookieValue('a', 'v', { expires: new Date(Date.UTC(2030, 0, 1)) }, true)).toBe(
      'a=v; Path=/; Expires=Tue, 01 Jan 2030 00:00:00 GMT; HttpOnly; Secure; SameSite=Lax',
    );
  });
});

describe('hasCookie', () => {
  it('finds a cookie by its exact name only', () => {
    expect(hasCookie('x=1; parlogin=s%3Aabc', 'parlogin')).toBe(true);
    expect(hasCookie('parlogin=', 'parlogin')).toBe(true);
    expect(hasCookie('myparlogin=1; parlogin-tx-abc=2', 'parlogin')).toBe(false);
    expect(hasCookie('a=parlogin=1', 'parlogin')).toBe(false);
    expect(hasCookie(undefined, 'parlogin')).toBe(false);
  });
});
