/**
 * Building the authorization request of a login (RFC 6749 §4.1.1, OIDC Core §3.1.2.1): the
 * parameters, PKCE S256 (RFC 7636 §4.2), `dpop_jkt` with DPoP (RFC 9449 §10), the configured and
 * per-request extras; and the form pushed to the PAR endpoint (RFC 9126 §2.1) or sent through the
 * browser: the parameters themselves, or with JAR a signed request object (RFC 9101). The login
 * route and the doctor's throw-away push both build it here. Pure but for the signature.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-4.1.1
 * @see https://openid.net/specs/openid-connect-core-1_0.html#AuthRequest
 * @see https://www.rfc-editor.org/rfc/rfc7636#section-4.2
 * @see https://www.rfc-editor.org/rfc/rfc9126#section-2.1
 * @module
 */
import { createHash } from 'node:crypto';
import type { ResolvedConfig } from '../config/resolve-config.js';
import { invalidArgument } from '../errors.js';
import { signedRequestForm } from './jar.js';
import type { LoginRequest } from './login-options.js';

/** What a login contributes to its authorization request. */
export interface AuthorizationRequestSubject {
  readonly state: string;
  readonly nonce: string;
  /** The PKCE code verifier; only its S256 challenge goes into the request. */
  readonly codeVerifier: string;
  /** The login's per-request parameters. */
  readonly request?: LoginRequest;
}

/** The configuration the request is built from. */
export type AuthorizationRequestConfig = Pick<
  ResolvedConfig,
  'clientId' | 'redirectUri' | 'scope' | 'authorizationParams' | 'requestObject' | 'signingKey' | 'issuer'
>;

/**
 * The S256 code challenge of a verifier: BASE64URL(SHA256(ASCII(verifier))).
 *
 * @see https://www.rfc-editor.org/rfc/rfc7636#section-4.2
 */
export function pkceChallenge(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}

/**
 * The authorization request parameters of a login. Per-request parameters replace configured
 * ones of the same name (all values of that name); the middleware's own (`state`, `nonce`, PKCE)
 * come first and configuration cannot override them.
 */
export function authorizationParameters(
  config: AuthorizationRequestConfig,
  login: AuthorizationRequestSubject,
  dpopJkt?: string,
): URLSearchParams {
  const params = new URLSearchParams({
    response_type: 'code',
    client_id: config.clientId,
    redirect_uri: login.request?.redirectUri ?? config.redirectUri,
    scope: login.request?.scope ?? config.scope,
    state: login.state,
    nonce: login.nonce,
    code_challenge: pkceChallenge(login.codeVerifier),
    code_challenge_method: 'S256',
  });
  for (const [name, value] of Object.entries(config.authorizationParams)) params.set(name, value);
  const replaced = new Set<string>();
  for (const [name, value] of login.request?.params ?? []) {
    if (!replaced.has(name)) params.delete(name);
    replaced.add(name);
    params.append(name, value);
  }
  if (dpopJkt !== undefined) params.set('dpop_jkt', dpopJkt);
  return params;
}

/**
 * The form that carries `params`: themselves, or with JAR (`requestObject`) a request object
 * signed with the client's key, with `client_id` beside it (RFC 9101 §5, RFC 9126 §3).
 *
 * @throws {TypeError} `ERR_INVALID_ARG_VALUE` when JAR is on without a signing key (configuration
 *   validation prevents it).
 *
 * @see https://www.rfc-editor.org/rfc/rfc9101#section-5
 */
export function authorizationRequestForm(
  config: AuthorizationRequestConfig,
  params: URLSearchParams,
): Promise<URLSearchParams> | URLSearchParams {
  if (!config.requestObject) return params;
  if (config.signingKey === undefined) throw invalidArgument('requestObject needs the client signing key');
  return signedRequestForm(params, config.signingKey, config.clientId, config.issuer);
}
