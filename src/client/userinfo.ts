/**
 * The UserInfo request (OIDC Core §5.3): claims beyond the ID token's, fetched once at login with
 * the new access token when `fetchUserinfo` is on, or on demand with `req.auth.userinfo()`. The
 * response's `sub` must be the ID token's (§5.3.2: a mismatch means the response must not be
 * used). Only plain JSON responses are accepted. A DPoP-bound access token goes with a proof
 * (RFC 9449 §7.1), retried once with the nonce the endpoint asks for (§9); a certificate-bound one
 * is presented over the back channel's mTLS connection to the endpoint's mTLS alias (RFC 8705 §3,
 * §5).
 *
 * @module
 */
import type { IdTokenClaims } from './id-token.js';
import { createDpopProof, resourceServerNonce, type DpopKey } from './dpop.js';
import { ParLoginError } from '../errors.js';
import { asObject, type BackChannel } from './http.js';
import type { TokenSet } from './token.js';
import { PROTOCOL_CLAIMS } from '../config/claims.js';

/**
 * Fetch the userinfo claims of the user `sub` with the access token of `tokens` (OIDC Core §5.3).
 *
 * @param dpopKey The key a DPoP-bound access token is bound to.
 * @see https://openid.net/specs/openid-connect-core-1_0.html#UserInfo
 * @throws {ParLoginError} `userinfo_error` (refused, not JSON, another `sub`), or a transport code.
 */
export async function fetchUserinfo(
  http: BackChannel,
  endpoint: string,
  tokens: TokenSet,
  sub: string,
  dpopKey?: DpopKey,
): Promise<Record<string, unknown>> {
  const dpop = dpopKey !== undefined && tokens.tokenType.toLowerCase() === 'dpop' ? dpopKey : undefined;
  const headers = async (nonce?: string): Promise<Record<string, string>> =>
    dpop === undefined
      ? { authorization: `Bearer ${tokens.accessToken}` }
      : {
          authorization: `DPoP ${tokens.accessToken}`,
          dpop: await createDpopProof(dpop, {
            htm: 'GET',
            htu: endpoint,
            accessToken: tokens.accessToken,
            ...(nonce ? { nonce } : {}),
          }),
        };
  let response = await http.get(endpoint, 'userinfo', await headers());
  const nonce = dpop === undefined ? undefined : resourceServerNonce(response.status, response.headers);
  if (nonce !== undefined) {
    response = await http.get(endpoint, 'userinfo', await headers(nonce));
  }
  if (response.status !== 200)
    throw new ParLoginError('userinfo_error', `The userinfo endpoint answered ${response.status}.`);
  const body = asObject(response.json);
  if (body === undefined)
    throw new ParLoginError(
      'userinfo_error',
      'The userinfo response is not a JSON object (signed or encrypted userinfo is not supported).',
    );
  if (body.sub !== sub)
    throw new ParLoginError(
      'userinfo_error',
      "The userinfo response is about another user (its sub is not the ID token's).",
    );
  return body;
}

/**
 * Fetch the userinfo claims and merge them over the ID token's (protocol claims excepted).
 *
 * @param dpopKey The key a DPoP-bound access token is bound to.
 * @throws {ParLoginError} `userinfo_error` (refused, not JSON, another `sub`), or a transport code.
 */
export async function mergeUserinfo(
  http: BackChannel,
  endpoint: string,
  tokens: TokenSet,
  claims: IdTokenClaims,
  dpopKey?: DpopKey,
): Promise<IdTokenClaims> {
  const body = await fetchUserinfo(http, endpoint, tokens, claims.sub, dpopKey);
  const extra = Object.fromEntries(Object.entries(body).filter(([name]) => !PROTOCOL_CLAIMS.has(name)));
  return { ...claims, ...extra, sub: claims.sub };
}
