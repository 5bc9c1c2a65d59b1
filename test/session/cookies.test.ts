/** The cookies the middleware writes itself: one set of attributes, and an exact name lookup. */
import { describe, expect, it } from '@jest/globals';
import { createRequire } from 'node:module';
import { cookieValue, hasCookie, setCookieValue } from '../../src/session/cookies.js';

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

/** The `cookie` package, as express-session loads it (it ships no types). */
const { parse } = createRequire(import.meta.url)('cookie') as {
  parse: (header: string) => Record<string, string | undefined>;
};

describe('cookieValue', () => {
  // express-session reads its cookie with the `cookie` package's parser: the same header must give
  // the same value here.
  it.each([
    'parlogin=s%3Aabc.def',
    'a=1; parlogin=s%3Aabc.def; b=2',
    ' parlogin = spaced ;other=1',
    'parlogin="quoted%20value"',
    'parlogin=first; parlogin=second',
    'parlogin=%E0%A4%A',
    'xparlogin=1; parlogin-tx=2',
    'parlogin=',
    'parlogin',
    'other=1',
    'a; parlogin=after-a-bare-name',
    'parlogin=a=b=c',
  ])('reads %j as the cookie package does', (header) => {
    expect(cookieValue(header, 'parlogin')).toBe(parse(header)['parlogin']);
  });

  it('reads nothing from no header', () => {
    expect(cookieValue(undefined, 'parlogin')).toBeUndefined();
  });
});
