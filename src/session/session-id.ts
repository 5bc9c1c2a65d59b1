/**
 * Session ids for the session that `parLogin()` mounts itself: 128 random bits (OWASP's session
 * management guidance asks for at least 64 bits of entropy), base64url, 22 characters.
 *
 * express-session sends `name=s%3A<id>.<signature>` where the signature is the base64 HMAC-SHA256 of
 * the id; its `+` and `/` are percent-encoded, 3 bytes each. An id is redrawn (rarely) while its
 * signature would push the cookie to 100 bytes or more, so the cookie the browser carries on every
 * request stays under 100 bytes, also with the `__Host-` name on https.
 *
 * @module
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { randomToken } from '../crypto/random.js';

/** The largest `name=value` the generator aims for, in bytes. */
export const COOKIE_BUDGET = 99;
const ID_BYTES = 16;
/** `s%3A` + 22-character id + `.` + 43-character signature, before percent-encoding `+` and `/`. */
const FIXED_VALUE_LENGTH = 4 + 22 + 1 + 43;

/** The signature express-session (cookie-signature) appends to a session id: base64 HMAC-SHA256 without padding. */
export function signSessionId(id: string, secret: string): string {
  return createHmac('sha256', secret).update(id).digest('base64').replace(/=+$/, '');
}

/**
 * The session id of a signed cookie value (`s:<id>.<signature>`, decoded) when one of `secrets` signed
 * it (the first signs new cookies; the others are older secrets still accepted), else undefined.
 * The signature is compared in constant time.
 */
export function unsignSessionId(value: string, secrets: readonly string[]): string | undefined {
  if (!value.startsWith('s:')) return undefined;
  const dot = value.lastIndexOf('.');
  if (dot < 3) return undefined; // no id, or no dot
  const id = value.slice(2, dot);
  const presented = Buffer.from(value.slice(dot + 1));
  for (const secret of secrets) {
    const expected = Buffer.from(signSessionId(id, secret));
    if (expected.length === presented.length && timingSafeEqual(expected, presented)) return id;
  }
  return undefined;
}

/** How many bytes `name=value` takes once express-session has signed and encoded `id`. */
export function signedCookieLength(
  name: string,
  id: string,
  secret: string,
  signature = signSessionId(id, secret),
): number {
  let encoded = 0;
  for (const char of signature) if (char === '+' || char === '/') encoded += 1;
  return name.length + 1 + 4 + id.length + 1 + signature.length + 2 * encoded;
}

/**
 * An express-session `genid` that keeps the signed cookie within {@link COOKIE_BUDGET} when the
 * cookie name leaves room for it (with a long name it returns the first id drawn).
 *
 * @param cookieName The session cookie's name, as sent (with any `__Host-` prefix).
 * @param secret The secret express-session signs with (its first secret).
 */
export function compactSessionIds(cookieName: string, secret: string): () => string {
  const next = compactSignedSessionIds(cookieName, secret);
  return () => next().id;
}

/** Like {@link compactSessionIds}, with each id's signature (computed anyway to measure the cookie). */
export function compactSignedSessionIds(
  cookieName: string,
  secret: string,
): () => { readonly id: string; readonly signature: string } {
  const fits = cookieName.length + 1 + FIXED_VALUE_LENGTH <= COOKIE_BUDGET;
  return () => {
    for (;;) {
      const id = randomToken(ID_BYTES);
      const signature = signSessionId(id, secret);
      if (!fits || signedCookieLength(cookieName, id, secret, signature) <= COOKIE_BUDGET)
        return { id, signature };
    }
  };
}
