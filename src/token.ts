/**
 * The token request of the authorization code grant (RFC 6749 §4.1.3 and §5.1, OIDC Core §3.1.3),
 * with the PKCE `code_verifier` (RFC 7636 §4.5) and the same client authentication as the push.
 *
 * @module
 */
import { INVALID_CLIENT_HINT, readAsError } from './as-error.js';
import type { ClientAuthentication } from './client-auth.js';
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
}

/** The inputs of a code exchange. */
export interface CodeExchange {
  readonly code: string;
  readonly codeVerifier: string;
  readonly redirectUri: string;
  readonly clientId: string;
}

/**
 * Exchange an authorization code for tokens.
 *
 * @throws {ParLoginError} `token_error` (the AS refused, or answered something unusable), or a transport code.
 */
export async function exchangeCode(
  http: BackChannel, auth: ClientAuthentication, endpoint: string, exchange: CodeExchange,
): Promise<TokenSet> {
  const form = new URLSearchParams({
    grant_type: 'authorization_code',
    code: exchange.code,
    redirect_uri: exchange.redirectUri,
    code_verifier: exchange.codeVerifier,
  });
  return readTokenResponse(await tokenRequest(http, auth, endpoint, form, exchange.clientId));
}

/**
 * Refresh an access token (RFC 6749 §6, OIDC Core §12) with the same client authentication.
 * The response need not hold an ID token or a new refresh token; the old refresh token is kept
 * when none is returned (no rotation).
 *
 * @throws {ParLoginError} `token_error` (with `asError` `invalid_grant` when the refresh token is no longer valid), or a transport code.
 */
export async function refreshTokens(
  http: BackChannel, auth: ClientAuthentication, endpoint: string, current: TokenSet, clientId: string,
): Promise<TokenSet> {
  if (current.refreshToken === undefined) throw new ParLoginError('token_error', 'There is no refresh token to refresh with.');
  const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: current.refreshToken });
  const fresh = readTokenResponse(await tokenRequest(http, auth, endpoint, form, clientId), { idTokenRequired: false });
  return {
    ...fresh,
    idToken: fresh.idToken === '' ? current.idToken : fresh.idToken,
    ...(fresh.refreshToken === undefined ? { refreshToken: current.refreshToken } : {}),
  };
}

/** POST a grant to the token endpoint with client authentication; the JSON of a 200, else a coded error. */
async function tokenRequest(http: BackChannel, auth: ClientAuthentication, endpoint: string, form: URLSearchParams, clientId: string): Promise<unknown> {
  if (auth.method === 'private_key_jwt') form.set('client_id', clientId);
  const headers = await auth.apply(form, endpoint);
  const response = await http.postForm(endpoint, form, headers, 'token');
  if (response.status !== 200) {
    const fields = readAsError(response.json);
    const hint = fields.asError === 'invalid_client'
      ? INVALID_CLIENT_HINT
      : fields.asError === 'invalid_grant' ? 'The grant was refused (a code already used or expired, or a refresh token revoked or expired). Log in again.' : undefined;
    throw new ParLoginError('token_error', `The token endpoint answered ${response.status}${fields.asError ? ` (${fields.asError})` : ''}.`, { ...fields, ...(hint ? { hint } : {}) });
  }
  return response.json;
}

/**
 * Validate a token response body (RFC 6749 §5.1) into a {@link TokenSet}. Without an ID token
 * (allowed on refresh, OIDC Core §12.2) `idToken` is `''`.
 */
export function readTokenResponse(json: unknown, { idTokenRequired = true } = {}): TokenSet {
  const body = asObject(json);
  if (body === undefined) throw new ParLoginError('token_error', 'The token response is not a JSON object.');
  const { access_token: accessToken, token_type: tokenType, id_token: idToken, refresh_token: refreshToken, expires_in: expiresIn, scope } = body;
  if (typeof accessToken !== 'string' || accessToken === '') throw new ParLoginError('token_error', 'The token response has no access_token.');
  if (typeof tokenType !== 'string' || tokenType.toLowerCase() !== 'bearer') throw new ParLoginError('token_error', 'The token response\'s token_type is not Bearer.');
  if (idTokenRequired ? typeof idToken !== 'string' || idToken === '' : idToken !== undefined && typeof idToken !== 'string') {
    throw new ParLoginError('token_error', 'The token response has no id_token (is "openid" in the scope?).');
  }
  if (refreshToken !== undefined && typeof refreshToken !== 'string') throw new ParLoginError('token_error', 'The token response\'s refresh_token is not a string.');
  if (expiresIn !== undefined && (typeof expiresIn !== 'number' || !Number.isFinite(expiresIn) || expiresIn < 0)) {
    throw new ParLoginError('token_error', 'The token response\'s expires_in is not a non-negative number.');
  }
  return {
    accessToken, tokenType, idToken: typeof idToken === 'string' ? idToken : '',
    ...(refreshToken !== undefined ? { refreshToken } : {}),
    ...(expiresIn !== undefined ? { expiresAt: Math.floor(Date.now() / 1000) + Math.floor(expiresIn) } : {}),
    ...(typeof scope === 'string' ? { scope } : {}),
  };
}
