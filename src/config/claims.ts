/**
 * The types of a user's claims: the standard claims of OpenID Connect (OIDC Core §5.1), the
 * protocol claims of an ID token (§2), and the app's own claims, declared once by the app.
 *
 * @see https://openid.net/specs/openid-connect-core-1_0.html#StandardClaims
 * @see https://openid.net/specs/openid-connect-core-1_0.html#IDToken
 * @module
 */

/** The `address` claim (OIDC Core §5.1.1). */
export interface AddressClaim {
  formatted?: string;
  street_address?: string;
  locality?: string;
  region?: string;
  postal_code?: string;
  country?: string;
}

/** The standard claims (OIDC Core §5.1), each present only when the AS released it. */
export interface StandardClaims {
  name?: string;
  given_name?: string;
  family_name?: string;
  middle_name?: string;
  nickname?: string;
  preferred_username?: string;
  profile?: string;
  picture?: string;
  website?: string;
  email?: string;
  email_verified?: boolean;
  gender?: string;
  birthdate?: string;
  zoneinfo?: string;
  locale?: string;
  phone_number?: string;
  phone_number_verified?: boolean;
  address?: AddressClaim;
  /** Epoch seconds of the last update of the user's information. */
  updated_at?: number;
}

/** The protocol claims of an ID token (OIDC Core §2), as validated at login. */
export interface ProtocolClaims {
  /** The issuer: the configured `issuer`. */
  iss: string;
  /** The user's identifier at the issuer. */
  sub: string;
  aud: string | string[];
  /** Epoch seconds. */
  exp: number;
  /** Epoch seconds. */
  iat: number;
  /** Epoch seconds of the authentication, when the AS sent it (always with `max_age`). */
  auth_time?: number;
  nonce?: string;
  /** The authentication context class the AS asserts (checked against requested `acr_values`). */
  acr?: string;
  /** The authentication methods used. */
  amr?: string[];
  azp?: string;
  /** The session id at the AS (OIDC Front-/Back-Channel Logout). */
  sid?: string;
}

/**
 * The app's own claims, typed once for the whole app by declaration merging:
 *
 * ```ts
 * declare module 'express-par-login' {
 *   interface CustomClaims { tenant?: string; roles?: string[] }
 * }
 * ```
 *
 * Then `req.auth.claims?.tenant` is a `string | undefined`. Claims not declared anywhere stay
 * reachable as `unknown`.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- empty until an app merges its claims in
export interface CustomClaims {}

/**
 * A logged-in user's claims: the ID token's (merged with userinfo's when `fetchUserinfo` is on),
 * the standard and protocol ones typed, `C` (by default the app's {@link CustomClaims}) for the app's
 * own, any other as `unknown`.
 */
export type UserClaims<C extends object = CustomClaims> = ProtocolClaims &
  StandardClaims &
  C & { readonly [claim: string]: unknown };

/**
 * The claims that say who logged in, how, and describe the ID token itself (OIDC Core §2, with the
 * hash and logout claims): always the validated ID token's, never taken from userinfo or from the
 * app's `afterCallback` hook.
 */
export const PROTOCOL_CLAIMS: ReadonlySet<string> = new Set([
  'iss',
  'sub',
  'aud',
  'azp',
  'exp',
  'iat',
  'nbf',
  'jti',
  'nonce',
  'auth_time',
  'acr',
  'amr',
  'sid',
  'at_hash',
  'c_hash',
  's_hash',
]);
