/**
 * The cookies the middleware writes itself (the session cookie of a session the callback starts,
 * and each pending login's cookie), built in one place so that their attributes cannot drift: always
 * `Path=/`, `HttpOnly` and `SameSite=Lax`, and `Secure` on https (RFC 6265 §4.1; the `__Host-`
 * prefix of the names, RFC 6265bis §4.1.3.2, needs `Secure`, `Path=/` and no `Domain`). Written as
 * strings rather than through `res.cookie`, which merges options and formats a date on every call.
 *
 * @module
 */

/** When a cookie ends: after `maxAgeSeconds` (0 deletes it), at `expires`, or when the browser closes. */
export type CookieLifetime =
  { readonly maxAgeSeconds: number } | { readonly expires: Date } | { readonly untilBrowserCloses: true };

/**
 * A `Set-Cookie` value, its attributes in the order the `cookie` package (Express, express-session)
 * writes them. `value` must already be a valid cookie value (the caller encodes it).
 */
export function setCookieValue(
  name: string,
  value: string,
  lifetime: CookieLifetime,
  secure: boolean,
): string {
  const ends =
    'expires' in lifetime
      ? `; Path=/; Expires=${lifetime.expires.toUTCString()}`
      : 'maxAgeSeconds' in lifetime
        ? `; Max-Age=${lifetime.maxAgeSeconds}; Path=/`
        : '; Path=/';
  return `${name}=${value}${ends}; HttpOnly${secure ? '; Secure' : ''}; SameSite=Lax`;
}

/** Whether a `Cookie` header holds a cookie named `name` (whatever its value), read as {@link cookieValue} reads it. */
export function hasCookie(header: string | undefined, name: string): boolean {
  return cookieValue(header, name) !== undefined;
}

/**
 * The value of the first cookie named `name` in a `Cookie` header, read as the `cookie` package
 * (express-session's parser) reads it: name and value trimmed, surrounding double quotes dropped,
 * percent-decoded when it decodes (else kept as sent).
 */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const pair of header.split(';')) {
    const equals = pair.indexOf('=');
    if (equals === -1 || pair.slice(0, equals).trim() !== name) continue;
    let value = pair.slice(equals + 1).trim();
    if (value.length > 1 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    if (!value.includes('%')) return value;
    try {
      return decodeURIComponent(value);
    } catch {
      return value;
    }
  }
  return undefined;
}

/**
 * The `cookie` member of a stored session, as express-session serializes its `Cookie` (`expires` a
 * `Date`, written as its ISO string; express-session accepts either when it loads a session).
 */
export interface StoredSessionCookie {
  readonly originalMaxAge: number;
  readonly expires: Date;
  readonly secure: boolean;
  readonly httpOnly: true;
  readonly path: '/';
  readonly sameSite: 'lax';
}

/**
 * The `cookie` member of the stored sessions of one `parLogin()`'s own session (own-session.ts),
 * for a session whose cookie expires at `expiresMs`: the same fields, in the same order, as
 * express-session's `Cookie#toJSON` writes for the options it is given there.
 */
export function storedSessionCookie(
  maxAgeMs: number,
  secure: boolean,
  expiresMs: number,
): StoredSessionCookie {
  return {
    originalMaxAge: maxAgeMs,
    expires: new Date(expiresMs),
    secure,
    httpOnly: true,
    path: '/',
    sameSite: 'lax',
  };
}
