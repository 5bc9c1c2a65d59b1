/**
 * JWT-Secured Authorization Requests with PAR (RFC 9101, RFC 9126 §3): the authorization request
 * parameters become the claims of a request object signed with the client's key, pushed as
 * `request` with `client_id` beside it (and the client authentication).
 *
 * The request object carries `iss` = client id and `aud` = the issuer (RFC 9101 §4), a short
 * `exp`, `nbf`, `iat` and a unique `jti` (FAPI 2.0 Message Signing §5.3.1), and the header
 * `typ: oauth-authz-req+jwt` (RFC 9101 §10.8).
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { SignJWT } from 'jose';
import type { SigningKey } from '../crypto/signing-key.js';

/** Lifetime of a request object, in seconds (FAPI 2.0 Message Signing: at most 60 minutes; it is used at once). */
const REQUEST_OBJECT_LIFETIME = 60;

/** Parameters that are JSON values inside the request object rather than strings. */
const JSON_PARAMS = new Set(['claims', 'authorization_details']);

/** The request object's claims from form parameters: repeated names become arrays, JSON parameters objects. */
export function requestObjectClaims(params: URLSearchParams): Record<string, unknown> {
  const claims: Record<string, unknown> = {};
  for (const name of new Set(params.keys())) {
    const values = params.getAll(name);
    claims[name] = JSON_PARAMS.has(name) ? JSON.parse(values[0]!) : values.length > 1 ? values : values[0];
  }
  return claims;
}

/**
 * Sign the parameters as a request object and return the form to push: `client_id` and `request`.
 *
 * @param params The authorization request parameters.
 * @param key The client's signing key.
 * @param issuer The AS's issuer (the audience).
 */
export async function signedRequestForm(
  params: URLSearchParams,
  key: SigningKey,
  clientId: string,
  issuer: string,
): Promise<URLSearchParams> {
  const now = Math.floor(Date.now() / 1000);
  const request = await new SignJWT({ ...requestObjectClaims(params), client_id: clientId })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'oauth-authz-req+jwt' })
    .setIssuer(clientId)
    .setAudience(issuer)
    .setIssuedAt(now)
    .setNotBefore(now)
    .setExpirationTime(now + REQUEST_OBJECT_LIFETIME)
    .setJti(randomBytes(16).toString('base64url'))
    .sign(key.key);
  return new URLSearchParams({ client_id: clientId, request });
}
