/**
 * How a session's ID token is kept in its token record: without the payload when the session's own
 * claims are that payload, byte for byte. The ID token is kept only to be sent back as
 * `id_token_hint` at logout (OIDC RP-Initiated Logout §2), where it must be the very token the AS
 * signed; its payload (about three quarters of it) repeats the claims the session holds anyway.
 *
 * The kept form is `header.~digest.signature`: the payload segment is replaced by `~` (never a
 * base64url character, so no real token has this form) and the first 8 bytes of the payload
 * segment's SHA-256. At logout the payload is encoded again from the session's claims and used only
 * when its digest matches, so a session store that changed the claims (an app's own serializer)
 * leads to a logout without a hint, never to a hint the AS rejects.
 *
 * Only a token whose payload is exactly `JSON.stringify` of the session's claims is kept this way:
 * any other (claims changed by `afterCallback` or merged from userinfo, an AS that writes its JSON
 * with other spacing or escapes, a refreshed ID token) is kept whole. A token kept whole reads back
 * unchanged, so records written before this form still work.
 *
 * @see https://openid.net/specs/openid-connect-rpinitiated-1_0.html#RPLogout
 * @see https://www.rfc-editor.org/rfc/rfc7515#section-7.1
 * @module
 */
import { createHash } from 'node:crypto';
import type { IdTokenClaims } from '../client/id-token.js';
import { encodeSegment } from '../crypto/jws.js';

/** The first character of a kept payload segment. */
const DETACHED = '~';

const digestOf = (payloadSegment: string): string =>
  createHash('sha256').update(payloadSegment).digest().subarray(0, 8).toString('base64url');

/** The parts of a JWS compact serialization, or `undefined` for anything else. */
function partsOf(token: string): [string, string, string] | undefined {
  const parts = token.split('.');
  return parts.length === 3 ? (parts as [string, string, string]) : undefined;
}

/**
 * The form to keep `idToken` in: without its payload when that payload is the session's `claims`,
 * else the token itself.
 */
export function keptIdToken(idToken: string, claims: IdTokenClaims): string {
  const parts = partsOf(idToken);
  if (parts === undefined || parts[1] !== encodeSegment(claims)) return idToken;
  return `${parts[0]}.${DETACHED}${digestOf(parts[1])}.${parts[2]}`;
}

/**
 * The ID token from its kept form and the session's `claims`: a token kept whole as it is;
 * `undefined` when the payload encoded from `claims` is not the one that was kept.
 */
export function restoredIdToken(kept: string, claims: IdTokenClaims): string | undefined {
  const parts = partsOf(kept);
  if (parts === undefined || !parts[1].startsWith(DETACHED)) return kept;
  const payload = encodeSegment(claims);
  return parts[1] === DETACHED + digestOf(payload) ? `${parts[0]}.${payload}.${parts[2]}` : undefined;
}
