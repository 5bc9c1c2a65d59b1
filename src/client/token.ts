/**
 * The token requests: the authorization code grant (RFC 6749 §4.1.3 and §5.1, OIDC Core §3.1.3)
 * with the PKCE `code_verifier` (RFC 7636 §4.5), and the refresh (RFC 6749 §6, OIDC Core §12),
 * both with the same client authentication as the push (a client certificate with mTLS, RFC 8705
 * §2, is presented by the back channel) and, with DPoP, a proof per request (RFC 9449 §5).
 *
 * @module
 */
import { INVALID_CLIENT_HINT, readAsError } from './as-error.js';
import type { ClientAuthentication } from './client-auth.js';
import { createDpopProof, requestedNonce, type DpopKey } from './dpop.js';
import { ParLoginError } from '../errors.js';
import type { CallbackTokens } from '../config/options.js';
import { asObject, type BackChannel } from './http.js';

/**
 * What a successful token response holds (the fields the `afterCallback` hook also sees, and the
 * granted authorization details). Lives only in the server-side token vault.
 */
export interface TokenSet extends CallbackTokens {
  /** The ID token (OIDC Core §3.1.3.3); after a refresh without a new one, the login's. */
  readonly idToken: string;
  /** RFC 9396 §7: the authorization details the AS granted, when it says. */
  readonly authorizationDetails?: ReadonlyArray<Record<string, unknown>>;
}

/** Sender constraint of a token request (RFC 9449). */
export interface DpopBinding {
  /** The DPoP key: a proof goes with the request (RFC 9449 §5) and the token may be DPoP-bound. */
  readonly dpopKey?: DpopKey;
  /** Refuse a Bearer token when a DPoP proof was sent (FAPI 2.0: sender-constrained tokens only). */
  readonly requireDpopBinding?: boolean;
}

/** The inputs of a code exchange. */
export interface CodeExchange extends DpopBinding {
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
  http: BackChannel,
  auth: ClientAuthentication,
  endpoint: string,
  exchange: CodeExchange,
): Promise<TokenSet> {
  const form = (): URLSearchParams =>
    new URLSearchParams({
      grant_type: 'authorization_code',
      code: exchange.code,
      redirect_uri: exchange.redirectUri,
      code_verifier: exchange.codeVerifier,
    });
  const json = await tokenRequest(
    http,
    auth,
    endpoint,
    form,
    exchange.clientId,
    exchange.dpopKey,
    'The code was refused (already used, expired, or issued for another redirect URI). Log in again.',
  );
  return checkBinding(readTokenResponse(json, { dpop: exchange.dpopKey !== undefined }), exchange);
}

/**
 * Refresh an access token (RFC 6749 §6, OIDC Core §12) with the same client authentication and,
 * for DPoP-bound tokens, a proof with the same key (RFC 9449 §5, §5.2). The response need not hold
 * an ID token or a new refresh token; the old refresh token is kept when none is returned (no
 * rotation), and so are the granted authorization details (RFC 9396 §7) when none are returned.
 *
 * @throws {ParLoginError} `token_error` (with `asError` `invalid_grant` when the refresh token is no
 *   longer valid), or a transport code.
 */
export async function refreshTokens(
  http: BackChannel,
  auth: ClientAuthentication,
  endpoint: string,
  current: TokenSet,
  clientId: string,
  binding: DpopBinding = {},
): Promise<TokenSet> {
  const refreshToken = current.refreshToken;
  if (refreshToken === undefined)
    throw new ParLoginError('token_error', 'There is no refresh token to refresh with.');
  const form = (): URLSearchParams =>
    new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken });
  const json = await tokenRequest(
    http,
    auth,
    endpoint,
    form,
    clientId,
    binding.dpopKey,
    'The grant was refused (a refresh token revoked or expired). Log in again.',
  );
  const fresh = checkBinding(
    readTokenResponse(json, { idTokenRequired: false, dpop: binding.dpopKey !== undefined }),
    binding,
  );
  return {
    ...fresh,
    idToken: fresh.idToken === '' ? current.idToken : fresh.idToken,
    ...(fresh.refreshToken === undefined ? { refreshToken } : {}),
    ...(fresh.authorizationDetails === undefined && current.authorizationDetails !== undefined
      ? { authorizationDetails: current.authorizationDetails }
      : {}),
  };
}

function checkBinding(tokens: TokenSet, binding: DpopBinding): TokenSet {
  if (binding.requireDpopBinding && binding.dpopKey && tokens.tokenType.toLowerCase() !== 'dpop') {
    throw new ParLoginError(
      'token_error',
      'The token endpoint issued a Bearer token although a DPoP-bound one was asked for (RFC 9449 §5).',
    );
  }
  return tokens;
}

/**
 * POST a grant to the token endpoint with client authentication (and a DPoP proof, retried once
 * with the nonce the AS asks for, RFC 9449 §8); the JSON of a 200, else a coded error.
 */
async function tokenRequest(
  http: BackChannel,
  auth: ClientAuthentication,
  endpoint: string,
  newForm: () => URLSearchParams,
  clientId: string,
  dpopKey: DpopKey | undefined,
  invalidGrantHint: string,
): Promise<unknown> {
  let nonce: string | undefined;
  for (let attempt = 0; ; attempt += 1) {
    const form = newForm();
    if (auth.method === 'private_key_jwt') form.set('client_id', clientId);
    const headers = { ...(await auth.apply(form, endpoint)) }; // the strategy's headers may be frozen
    if (dpopKey)
      headers.dpop = await createDpopProof(dpopKey, {
        htm: 'POST',
        htu: endpoint,
        ...(nonce ? { nonce } : {}),
      });
    const response = await http.postForm(endpoint, form, headers, 'token');
    if (response.status === 200) return response.json;
    const fields = readAsError(response.json);
    const asked =
      dpopKey && attempt === 0
        ? requestedNonce(response.status, fields.asError, response.headers)
        : undefined;
    if (asked !== undefined) {
      nonce = asked;
      continue;
    }
    const hint =
      fields.asError === 'invalid_client'
        ? INVALID_CLIENT_HINT
        : fields.asError === 'invalid_grant'
          ? invalidGrantHint
          : undefined;
    throw new ParLoginError(
      'token_error',
      `The token endpoint answered ${response.status}${fields.asError ? ` (${fields.asError})` : ''}.`,
      { ...fields, ...(hint ? { hint } : {}) },
    );
  }
}

/** Options of {@link readTokenResponse}. */
export interface TokenResponseOptions {
  /**
   * Whether the response must hold an ID token; without one (allowed on refresh, OIDC Core §12.2)
   * `idToken` is `''`. @default true
   */
  readonly idTokenRequired?: boolean;
  /** Whether a DPoP proof was sent: then `token_type` may be `DPoP` (RFC 9449 §5). @default false */
  readonly dpop?: boolean;
}

/**
 * Validate a token response body (RFC 6749 §5.1) into a {@link TokenSet}.
 *
 * @throws {ParLoginError} `token_error` when the body is unusable.
 */
export function readTokenResponse(
  json: unknown,
  { idTokenRequired = true, dpop = false }: TokenResponseOptions = {},
): TokenSet {
  const body = asObject(json);
  if (body === undefined) throw new ParLoginError('token_error', 'The token response is not a JSON object.');
  const {
    access_token: accessToken,
    token_type: tokenType,
    id_token: idToken,
    refresh_token: refreshToken,
    expires_in: expiresIn,
    scope,
    authorization_details: authorizationDetails,
  } = body;
  if (typeof accessToken !== 'string' || accessToken === '')
    throw new ParLoginError('token_error', 'The token response has no access_token.');
  const types = dpop ? ['bearer', 'dpop'] : ['bearer'];
  if (typeof tokenType !== 'string' || !types.includes(tokenType.toLowerCase())) {
    throw new ParLoginError(
      'token_error',
      `The token response's token_type is not ${dpop ? 'DPoP or Bearer' : 'Bearer'}.`,
    );
  }
  if (
    idTokenRequired
      ? typeof idToken !== 'string' || idToken === ''
      : idToken !== undefined && typeof idToken !== 'string'
  ) {
    throw new ParLoginError('token_error', 'The token response has no id_token (is "openid" in the scope?).');
  }
  if (refreshToken !== undefined && typeof refreshToken !== 'string')
    throw new ParLoginError('token_error', "The token response's refresh_token is not a string.");
  if (
    expiresIn !== undefined &&
    (typeof expiresIn !== 'number' || !Number.isFinite(expiresIn) || expiresIn < 0)
  ) {
    throw new ParLoginError('token_error', "The token response's expires_in is not a non-negative number.");
  }
  if (
    authorizationDetails !== undefined &&
    (!Array.isArray(authorizationDetails) ||
      authorizationDetails.some(
        (item) => asObject(item) === undefined || typeof (item as { type?: unknown }).type !== 'string',
      ))
  ) {
    throw new ParLoginError(
      'token_error',
      "The token response's authorization_details is not an array of objects with a type (RFC 9396 §7).",
    );
  }
  return {
    accessToken,
    tokenType,
    idToken: typeof idToken === 'string' ? idToken : '',
    ...(authorizationDetails !== undefined
      ? { authorizationDetails: authorizationDetails as Array<Record<string, unknown>> }
      : {}),
    ...(refreshToken !== undefined ? { refreshToken } : {}),
    ...(expiresIn !== undefined
      ? { expiresAtSeconds: Math.floor(Date.now() / 1000) + Math.floor(expiresIn) }
      : {}),
    ...(typeof scope === 'string' ? { scope } : {}),
  };
}
