/**
 * Verifying a back-channel logout token (OpenID Connect Back-Channel Logout 1.0 §2.6): signed by
 * the AS with an asymmetric algorithm (the ID token's allow-list), explicitly typed `logout+jwt`
 * (§2.4), `iss`, `aud`, `iat`, `exp`, `jti`, the back-channel logout event, `sid` and/or `sub`, and
 * no `nonce`. Recording the `jti` against replays is the caller's (routes/backchannel-logout.ts),
 * since it needs the shared state.
 *
 * @see https://openid.net/specs/openid-connect-backchannel-1_0.html#Validation
 * @module
 */
import { ID_TOKEN_ALGORITHMS } from './id-token.js';
import type { KeyResolver } from './jwks.js';
import { JwtRejected, verifyJwt } from './jwt.js';

/** The event a logout token must carry (§2.4). */
const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

/** The claims of a valid logout token that select sessions (§2.7). */
export interface LogoutSelector {
  readonly sid?: string;
  readonly sub?: string;
}

/** What a logout token is checked against. */
export interface LogoutTokenExpectations {
  readonly issuer: string;
  readonly clientId: string;
  readonly clockToleranceSeconds: number;
  /** The oldest token accepted, by `iat`. */
  readonly maxTokenAgeSeconds: number;
  /** Accepted JWS algorithms: the profile's, as for ID tokens. @default {@link ID_TOKEN_ALGORITHMS} */
  readonly algorithms?: readonly string[];
  readonly nowSeconds: number;
}

/** A verified logout token. */
export interface VerifiedLogoutToken {
  readonly selector: LogoutSelector;
  readonly jti: string;
  /** How long its `jti` must be remembered to refuse a replay: until it expires, at least the maximum age. */
  readonly rememberSeconds: number;
}

/**
 * Verify `token` as a logout token.
 *
 * @throws {JwtRejected} with a sentence saying why the token is refused.
 * @throws {ParLoginError} `jwks_error` or a transport code when the AS's keys cannot be had.
 */
export async function verifyLogoutToken(
  token: string,
  keys: KeyResolver,
  expected: LogoutTokenExpectations,
): Promise<VerifiedLogoutToken> {
  const payload = await verifyJwt(
    token,
    keys,
    {
      issuer: expected.issuer,
      audience: expected.clientId,
      typ: 'logout+jwt',
      algorithms: expected.algorithms ?? ID_TOKEN_ALGORITHMS,
      clockToleranceSeconds: expected.clockToleranceSeconds,
      maxTokenAgeSeconds: expected.maxTokenAgeSeconds + expected.clockToleranceSeconds,
      requiredClaims: ['iss', 'aud', 'iat', 'exp', 'jti', 'events'],
    },
    expected.nowSeconds,
  );
  const events = payload.events as Record<string, unknown> | undefined;
  const event = events !== null && typeof events === 'object' ? events[BACKCHANNEL_LOGOUT_EVENT] : undefined;
  if (event === null || typeof event !== 'object' || Array.isArray(event))
    throw new JwtRejected('it does not carry the back-channel logout event');
  if (payload.nonce !== undefined) throw new JwtRejected('it has a nonce (it could be an ID token)');
  const sid = typeof payload.sid === 'string' && payload.sid !== '' ? payload.sid : undefined;
  const sub = typeof payload.sub === 'string' && payload.sub !== '' ? payload.sub : undefined;
  if (sid === undefined && sub === undefined) throw new JwtRejected('it names neither a sid nor a sub');
  if (typeof payload.jti !== 'string' || payload.jti === '') throw new JwtRejected('its jti is not a string');
  const exp = typeof payload.exp === 'number' ? payload.exp : 0;
  const rememberSeconds = Math.max(
    1,
    exp - expected.nowSeconds + expected.clockToleranceSeconds,
    expected.maxTokenAgeSeconds,
  );
  return {
    selector: { ...(sid ? { sid } : {}), ...(sub ? { sub } : {}) },
    jti: payload.jti,
    rememberSeconds,
  };
}
