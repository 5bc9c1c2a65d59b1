/**
 * ID token validation (OIDC Core §3.1.3.7): the signature against the AS's JWKS with an asymmetric
 * algorithm (never `none`, never an HMAC keyed by the client secret), then `iss`, `aud`, `azp`,
 * `exp`, `iat` (not in the future, not old), `sub`, `nonce` (§3.1.3.7 item 11, §15.5.2) and, when the
 * login asked for them, `acr` (item 12).
 *
 * @module
 */
import type { JWTPayload } from 'jose';
import { ParLoginError } from '../errors.js';
import type { KeyResolver } from './jwks.js';
import { JWS_ALGORITHMS } from '../crypto/jws.js';
import { JwtRejected, verifyJwt } from './jwt.js';
import type { CustomClaims, UserClaims } from '../config/claims.js';

/**
 * The claims of a validated ID token: its protocol claims and the standard claims typed, the app's
 * {@link CustomClaims} (or `C`), any other as `unknown` (config/claims.ts).
 */
export type IdTokenClaims<C extends object = CustomClaims> = UserClaims<C>;

/** Asymmetric JWS algorithms accepted for ID tokens. */
export const ID_TOKEN_ALGORITHMS: readonly string[] = JWS_ALGORITHMS;

/** An ID token older than this (seconds, by `iat`) at the callback is refused. */
const MAX_TOKEN_AGE = 300;

/** What an ID token is checked against. */
export interface IdTokenExpectations {
  readonly issuer: string;
  readonly clientId: string;
  readonly nonce: string;
  /** Seconds of clock skew tolerated. */
  readonly clockToleranceSeconds: number;
  /** Accepted JWS algorithms. @default {@link ID_TOKEN_ALGORITHMS} */
  readonly algorithms?: readonly string[];
  /**
   * The `acr` values the login asked for: the token's `acr` must be one of them (any value when the
   * list is empty). @default no check
   */
  readonly acr?: readonly string[];
}

/** The longest `acr` quoted in an error message. */
const MAX_QUOTED_ACR_LENGTH = 100;

/**
 * Validate an ID token and return its claims.
 *
 * @throws {ParLoginError} `id_token_invalid`, or `jwks_error` / a transport code when the keys cannot be had.
 */
export async function validateIdToken(
  idToken: string,
  keys: KeyResolver,
  expected: IdTokenExpectations,
): Promise<IdTokenClaims> {
  const claims = await verifyIdToken(idToken, keys, expected);
  if (claims.nonce !== expected.nonce) {
    throw new ParLoginError(
      'id_token_invalid',
      'The ID token is invalid: its nonce does not match this login.',
    );
  }
  if (expected.acr !== undefined) checkAcr(claims, expected.acr);
  return claims;
}

/**
 * Check that the ID token asserts one of the requested authentication context classes (OIDC Core
 * §3.1.3.7 item 12): an AS may satisfy `acr_values` with a lower level, and a step-up login would
 * then pass for what it is not.
 *
 * @see https://openid.net/specs/openid-connect-core-1_0.html#IDTokenValidation
 * @throws {ParLoginError} `acr_not_satisfied`.
 */
function checkAcr(claims: IdTokenClaims, requested: readonly string[]): void {
  const { acr } = claims;
  if (typeof acr === 'string' && (requested.length === 0 || requested.includes(acr))) return;
  const asserted =
    typeof acr === 'string' ? `"${acr.slice(0, MAX_QUOTED_ACR_LENGTH)}"` : 'no authentication context class';
  throw new ParLoginError(
    'acr_not_satisfied',
    `The sign-in did not reach the level of authentication asked for: the ID token asserts ${asserted}` +
      (requested.length > 0 ? `, not one of ${requested.map((value) => `"${value}"`).join(', ')}.` : '.'),
    {
      hint:
        'Sign in again with the method asked for. Operators: check that the AS supports these acr_values, ' +
        'or set OIDC_CHECK_ACR=false and check req.auth.claims.acr in the app.',
    },
  );
}

/**
 * Validate an ID token returned by a refresh (OIDC Core §12.2): the same checks as at login, and
 * `iss`, `sub`, `aud` as in the original ID token; a `nonce` or `auth_time`, if present, equal to the original's.
 *
 * @throws {ParLoginError} `id_token_invalid`, or `jwks_error` / a transport code.
 */
export async function validateRefreshedIdToken(
  idToken: string,
  keys: KeyResolver,
  expected: Omit<IdTokenExpectations, 'nonce'>,
  original: IdTokenClaims,
): Promise<IdTokenClaims> {
  const claims = await verifyIdToken(idToken, keys, expected);
  if (claims.sub !== original.sub)
    throw new ParLoginError('id_token_invalid', 'The refreshed ID token is for another user (sub differs).');
  if (claims.nonce !== undefined && claims.nonce !== original.nonce) {
    throw new ParLoginError(
      'id_token_invalid',
      'The refreshed ID token has a nonce that is not the original one.',
    );
  }
  if (
    claims.auth_time !== undefined &&
    original.auth_time !== undefined &&
    claims.auth_time !== original.auth_time
  ) {
    throw new ParLoginError(
      'id_token_invalid',
      "The refreshed ID token has an auth_time that is not the original authentication's.",
    );
  }
  return claims;
}

async function verifyIdToken(
  idToken: string,
  keys: KeyResolver,
  expected: Omit<IdTokenExpectations, 'nonce'>,
): Promise<IdTokenClaims> {
  let payload: JWTPayload;
  try {
    payload = await verifyJwt(idToken, keys, {
      issuer: expected.issuer,
      audience: expected.clientId,
      algorithms: expected.algorithms ?? ID_TOKEN_ALGORITHMS,
      clockToleranceSeconds: expected.clockToleranceSeconds,
      maxTokenAgeSeconds: MAX_TOKEN_AGE + expected.clockToleranceSeconds,
      requiredClaims: ['iss', 'sub', 'aud', 'exp', 'iat'],
    });
  } catch (err) {
    if (err instanceof JwtRejected)
      throw new ParLoginError('id_token_invalid', `The ID token is invalid: ${err.message}.`, { cause: err });
    throw err;
  }
  const audiences = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
  if (payload.azp !== undefined && payload.azp !== expected.clientId) {
    throw new ParLoginError('id_token_invalid', 'The ID token is invalid: its azp is not this client.');
  }
  if (audiences.length > 1 && payload.azp === undefined) {
    throw new ParLoginError(
      'id_token_invalid',
      'The ID token is invalid: it has several audiences and no azp.',
    );
  }
  if (typeof payload.sub !== 'string' || payload.sub === '') {
    throw new ParLoginError('id_token_invalid', 'The ID token is invalid: sub is missing.');
  }
  return payload as IdTokenClaims;
}
