/**
 * `returnTo`: where the user lands after login. Only local paths are accepted (an open redirect is
 * an OAuth attack vector: RFC 9700 §4.11); anything else falls back to `/`.
 *
 * @module
 */

const MAX_LENGTH = 2048;
const PROBE_ORIGIN = 'http://return-to.invalid';
// Control characters (C0, DEL, C1), backslashes and whitespace are never part of a local path we accept.
// eslint-disable-next-line no-control-regex
const FORBIDDEN = /[\u0000-\u0020\u007f-\u009f\\]/;
const NON_ASCII = /[^\u0000-\u007f]/;

/**
 * Return `value` when it is a local absolute path (`/`, `/a/b?x=1#y`; non-ASCII percent-encoded), else `fallback`.
 * Refused: absolute URLs, scheme-relative `//host`, `/\host`, any scheme, control characters,
 * whitespace, backslashes, and anything longer than 2048 characters.
 */
export function safeReturnTo(value: unknown, fallback = '/'): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_LENGTH) return fallback;
  if (value[0] !== '/' || value[1] === '/' || FORBIDDEN.test(value)) return fallback;
  let url: URL;
  try {
    url = new URL(value, PROBE_ORIGIN);
  } catch {
    return fallback;
  }
  // The URL parser is the browser's: if it resolves off the probe origin, a browser would leave the site.
  if (url.origin !== PROBE_ORIGIN || url.pathname.startsWith('//')) return fallback;
  // Non-ASCII goes out percent-encoded, as the URL parser serializes it (a Location header is ASCII).
  return NON_ASCII.test(value) ? url.pathname + url.search + url.hash : value;
}
