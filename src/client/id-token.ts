/**
 * ID token validation (OIDC Core §3.1.3.7): the signature against the AS's JWKS with an asymmetric
 * algorithm (never `none`, never an HMAC keyed by the client secret), then `iss`, `aud`, `azp`,
 * `exp`, `iat` (not in the future, not old), `sub` and `nonce` (§3.1.3.7 item 11, §15.5.2).
 *
 * @module
 */
import type { JWTPayload } from 'jose';
import { ParLoginError } from '../errors.js';
import type { KeyResolver } from './jwks.js';
import { JWS_ALGORITHMS } from '../crypto/jws.js';
import { JwtRejected, verifyJwt } from './jwt.js';

/** The claims of a validated ID token. */
export type IdTokenClaims = JWTPayload & { sub: string };

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
}

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
  return claims;
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
