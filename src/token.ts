/**
 * The token request of the authorization code grant (RFC 6749 §4.1.3 and §5.1, OIDC Core §3.1.3),
 * with the PKCE `code_verifier` (RFC 7636 §4.5) and the same client authentication as the push.
 *
 * @module
 */
import { INVALID_CLIENT_HINT, readAsError } from './as-error.js';
import type { ClientAuthentication } from './client-auth.js';
import { createDpopProof, requestedNonce, type DpopKey } from './dpop.js';
import { ParLoginError } from './errors.js';
import { asObject, type BackChannel } from './http.js';

/** What a successful token response holds. Lives only in the server-side session. */
export interface TokenSet {
  readonly accessToken: string;
  readonly tokenType: string;
  readonly idToken: string;
  readonly refreshToken?: string;
  /** Epoch seconds when the access token expires, when the AS said. */
  readonly expiresAt?: number;
  readonly scope?: string;
  /** RFC 9396 §7: the authorization details the AS granted, when it says. */
  readonly authorizationDetails?: ReadonlyArray<Record<string, unknown>>;
}

/** The inputs of a code exchange. */
export interface CodeExchange {
  readonly code: string;
  readonly codeVerifier: string;
  readonly redirectUri: string;
  readonly clientId: string;
  /** The DPoP key: a proof goes with the request (RFC 9449 §5) and the token must be DPoP-bound. */
  readonly dpopKey?: DpopKey;
  /** Refuse a Bearer token when a DPoP proof was sent (FAPI 2.0: sender-constrained tokens only). */
  readonly requireDpopBinding?: boolean;
}

/**
 * Exchange an authorization code for tokens.
 *
 * @throws {ParLoginError} `token_error` (the AS refused, or answered something unusable), or a transport code.
 */
export async function exchangeCode(
  http: BackChannel, auth: ClientAuthentication, endpoint: string, exchange: CodeExchange,
): Promise<TokenSet> {
  let nonce: string | undefined;
  for (let attempt = 0; ; attempt += 1) {
    const form = new URLSearchParams({
      grant_type: 'authorization_code',
      code: exchange.code,
      redirect_uri: exchange.redirectUri,
      code_verifier: exchange.codeVerifier,
    });
    if (auth.method === 'private_key_jwt') form.set('client_id', exchange.clientId);
    const headers = { ...(await auth.apply(form, endpoint)) }; // the strategy's headers may be frozen
    if (exchange.dpopKey) headers.dpop = await createDpopProof(exchange.dpopKey, { htm: 'POST', htu: endpoint, ...(nonce ? { nonce } : {}) });
    const response = await http.postForm(endpoint, form, headers, 'token');
    if (response.status === 200) {
      const tokens = readTokenResponse(response.json, exchange.dpopKey !== undefined);
      if (exchange.requireDpopBinding && exchange.dpopKey && tokens.tokenType.toLowerCase() !== 'dpop') {
        throw new ParLoginError('token_error', 'The token endpoint issued a Bearer token although a DPoP-bound one was asked for (RFC 9449 §5).');
      }
      return tokens;
    }
    const fields = readAsError(response.json);
    // RFC 9449 §8: the AS wants a nonce in the proof; retry once with it.
    const asked = exchange.dpopKey && attempt === 0 ? requestedNonce(response.status, fields.asError, response.headers) : undefined;
    if (asked !== undefined) {
      nonce = asked;
      continue;
    }
    const hint = fields.asError === 'invalid_client'
      ? INVALID_CLIENT_HINT
      : fields.asError === 'invalid_grant' ? 'The code was refused (already used, expired, or issued for another redirect URI). Log in again.' : undefined;
    throw new ParLoginError('token_error', `The token endpoint answered ${response.status}${fields.asError ? ` (${fields.asError})` : ''}.`, { ...fields, ...(hint ? { hint } : {}) });
  }
}

/**
 * Validate a token response body (RFC 6749 §5.1) into a {@link TokenSet}.
 *
 * @param dpop Whether a DPoP proof was sent: then `token_type` may be `DPoP` (RFC 9449 §5).
 */
export function readTokenResponse(json: unknown, dpop = false): TokenSet {
  const body = asObject(json);
  if (body === undefined) throw new ParLoginError('token_error', 'The token response is not a JSON object.');
  const {
    access_token: accessToken, token_type: tokenType, id_token: idToken, refresh_token: refreshToken, expires_in: expiresIn, scope,
    authorization_details: authorizationDetails,
  } = body;
  if (typeof accessToken !== 'string' || accessToken === '') throw new ParLoginError('token_error', 'The token response has no access_token.');
  const types = dpop ? ['bearer', 'dpop'] : ['bearer'];
  if (typeof tokenType !== 'string' || !types.includes(tokenType.toLowerCase())) {
    throw new ParLoginError('token_error', `The token response's token_type is not ${dpop ? 'DPoP or Bearer' : 'Bearer'}.`);
  }
  if (typeof idToken !== 'string' || idToken === '') throw new ParLoginError('token_error', 'The token response has no id_token (is "openid" in the scope?).');
  if (refreshToken !== undefined && typeof refreshToken !== 'string') throw new ParLoginError('token_error', 'The token response\'s refresh_token is not a string.');
  if (expiresIn !== undefined && (typeof expiresIn !== 'number' || !Number.isFinite(expiresIn) || expiresIn < 0)) {
    throw new ParLoginError('token_error', 'The token response\'s expires_in is not a non-negative number.');
  }
  if (authorizationDetails !== undefined && (!Array.isArray(authorizationDetails)
    || authorizationDetails.some((item) => asObject(item) === undefined || typeof (item as { type?: unknown }).type !== 'string'))) {
    throw new ParLoginError('token_error', 'The token response\'s authorization_details is not an array of objects with a type (RFC 9396 §7).');
  }
  return {
    accessToken, tokenType, idToken,
    ...(authorizationDetails !== undefined ? { authorizationDetails: authorizationDetails as Array<Record<string, unknown>> } : {}),
    ...(refreshToken !== undefined ? { refreshToken } : {}),
    ...(expiresIn !== undefined ? { expiresAt: Math.floor(Date.now() / 1000) + Math.floor(expiresIn) } : {}),
    ...(typeof scope === 'string' ? { scope } : {}),
  };
}
