/**
 * JWT-Secured Authorization Requests with PAR (RFC 9101, RFC 9126 §3): the authorization request
 * parameters become the claims of a request object signed with the client's key, pushed as
 * `request` with `client_id` beside it (and the client authentication).
 *
 * The request object carries `iss` = client id and `aud` = the issuer (RFC 9101 §4), a short
 * `exp`, `nbf`, `iat` and a unique `jti` (FAPI 2.0 Message Signing §5.3.1), and the header
 * `typ: oauth-authz-req+jwt` (RFC 9101 §10.8). It is signed with `node:crypto` by crypto/jws.ts, the
 * signer of client assertions, with the same key.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9101#section-4
 * @see https://www.rfc-editor.org/rfc/rfc9101#section-10.8
 * @see https://www.rfc-editor.org/rfc/rfc7515#section-7.1
 * @module
 */
import { compactSigner, type CompactSigner } from '../crypto/jws.js';
import { randomToken } from '../crypto/random.js';
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

/** Each signing key's request-object signer: the header `{ alg, kid, typ }` is constant per key, so encoded once. */
const signers = new WeakMap<SigningKey, CompactSigner>();

function signerOf(key: SigningKey): CompactSigner {
  let signer = signers.get(key);
  if (signer === undefined) {
    signer = compactSigner({ alg: key.alg, kid: key.kid, typ: 'oauth-authz-req+jwt' }, key.key);
    signers.set(key, signer);
  }
  return signer;
}

/**
 * Sign the parameters as a request object and return the form to push: `client_id` and `request`.
 * Header `alg`, `kid`, `typ: oauth-authz-req+jwt` (RFC 9101 §10.8); claims the parameters and
 * `client_id`, then `iss` = client id and `aud` = issuer (§4), `iat`, `nbf`, `exp` 60 s later and a
 * unique `jti` (FAPI 2.0 Message Signing §5.3.1).
 *
 * @see https://www.rfc-editor.org/rfc/rfc9101#section-4
 * @see https://www.rfc-editor.org/rfc/rfc9101#section-10.8
 * @see https://www.rfc-editor.org/rfc/rfc9126#section-3
 * @param params The authorization request parameters.
 * @param key The client's signing key.
 * @param clientId The client id (`iss`, `client_id`).
 * @param issuer The AS's issuer (the audience).
 */
export function signedRequestForm(
  params: URLSearchParams,
  key: SigningKey,
  clientId: string,
  issuer: string,
): Promise<URLSearchParams> {
  return new Promise((resolve) => resolve(signRequestForm(params, key, clientId, issuer)));
}

function signRequestForm(
  params: URLSearchParams,
  key: SigningKey,
  clientId: string,
  issuer: string,
): URLSearchParams {
  const signer = signerOf(key);
  const now = Math.floor(Date.now() / 1000);
  // Assigned in the order jose's SignJWT set them before, so the claim set serializes as it did.
  const claims: Record<string, unknown> = { ...requestObjectClaims(params), client_id: clientId };
  claims.iss = clientId;
  claims.aud = issuer;
  claims.iat = now;
  claims.nbf = now;
  claims.exp = now + REQUEST_OBJECT_LIFETIME;
  claims.jti = randomToken(16);
  return new URLSearchParams({ client_id: clientId, request: signer(claims) });
}
