/**
 * `returnTo`: where the user lands after login. Only local paths are accepted (an open redirect is
 * an OAuth attack vector: RFC 9700 §4.11); anything else falls back to `/`.
 *
 * @module
 */

const MAX_LENGTH = 2048;
const PROBE_ORIGIN = 'http://return-to.invalid';
/** Any UTF-16 code unit above U+007F (surrogates included): the string is not all ASCII. */
const NON_ASCII = /[\u0080-\uffff]/;

/**
 * Return `value` when it is a local absolute path (`/`, `/a/b?x=1#y`; non-ASCII percent-encoded),
 * else `fallback`.
 * Refused: absolute URLs, scheme-relative `//host`, `/\host`, any scheme, control characters,
 * whitespace, backslashes, and anything longer than 2048 characters.
 */
export function safeReturnTo(value: unknown, fallback = '/'): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_LENGTH) return fallback;
  if (value[0] !== '/' || value[1] === '/' || hasForbiddenCharacter(value)) return fallback;
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

/**
 * Whether `value` holds a character that is never part of a local path we accept: a control character
 * (C0 U+0000 to U+001F, DEL U+007F, C1 U+0080 to U+009F), a space, or a backslash.
 */
function hasForbiddenCharacter(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code <= 0x20 || (code >= 0x7f && code <= 0x9f) || code === 0x5c) return true;
  }
  return false;
}
