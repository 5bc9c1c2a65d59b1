/**
 * Verifying a signed JWT from the AS (RFC 7519 §7.2, RFC 8725): the algorithm against an
 * allow-list before any key is looked at (RFC 8725 §3.1), the signature against the AS's keys
 * (jws.ts, jwks.ts), then the registered claims: `iss`, `aud`, `exp`, `nbf`, `iat` and the token's
 * age (RFC 7519 §4.1), with a clock tolerance. ID tokens (id-token.ts) and logout tokens
 * (backchannel-logout.ts) add their own checks on top.
 *
 * @module
 */
import { decodeCompact, MIN_RSA_BITS, rsaBits, verifySignature } from '../crypto/jws.js';
import type { KeyResolver } from './jwks.js';

/** What a JWT is checked against. */
export interface JwtExpectations {
  /** The only accepted `iss`. */
  readonly issuer: string;
  /** The value `aud` must be or contain. */
  readonly audience: string;
  /** Accepted `alg` values. */
  readonly algorithms: readonly string[];
  /** Seconds of clock skew tolerated on `exp`, `nbf` and `iat`. */
  readonly clockToleranceSeconds: number;
  /** The oldest token accepted, in seconds since its `iat` (tolerance not included). */
  readonly maxTokenAgeSeconds: number;
  /** Claims that must be present. */
  readonly requiredClaims: readonly string[];
  /** The `typ` header the token must carry (compared without `application/`, case-insensitively, RFC 7515 §4.1.9). */
  readonly typ?: string;
}

/** Why a JWT was refused: its message is a sentence fit to follow "The token is invalid: ". */
export class JwtRejected extends Error {
  override readonly name = 'JwtRejected';
}

const claimFailed = (claim: string, reason: string): JwtRejected =>
  new JwtRejected(`claim "${claim}" failed (${reason})`);
const normalizeTyp = (typ: string): string => typ.toLowerCase().replace(/^application\//, '');

/**
 * Verify `token` and return its claims.
 *
 * @throws {JwtRejected} when the token is malformed, unsigned by the AS, or its claims fail.
 * @throws {ParLoginError} `jwks_error` or a transport code when the AS's keys cannot be had.
 */
export async function verifyJwt(
  token: string,
  keys: KeyResolver,
  expected: JwtExpectations,
  now = Math.floor(Date.now() / 1000),
): Promise<Record<string, unknown>> {
  const decoded = decodeCompact(token);
  if ('problem' in decoded) throw new JwtRejected(decoded.problem);
  const { header, payload } = decoded;
  if (!expected.algorithms.includes(header.alg))
    throw new JwtRejected('its signing algorithm is not allowed');
  const candidates = await keys(header);
  if (candidates.length === 0) throw new JwtRejected('no key of the AS matches its kid');
  // OIDC Core §10.1: with several keys published, the token must say which one signed it.
  if (candidates.length > 1)
    throw new JwtRejected(
      header.kid === undefined
        ? 'it names no kid and several keys of the AS fit'
        : 'several keys of the AS share its kid',
    );
  const bits = rsaBits(candidates[0]!);
  if (bits !== undefined && bits < MIN_RSA_BITS)
    throw new JwtRejected(`its key is an RSA key of ${bits} bits, and at least ${MIN_RSA_BITS} are required`);
  if (!verifySignature(header.alg, decoded.signingInput, decoded.signature, candidates[0]!)) {
    throw new JwtRejected('its signature does not verify');
  }
  if (
    expected.typ !== undefined &&
    (typeof header.typ !== 'string' || normalizeTyp(header.typ) !== normalizeTyp(expected.typ))
  ) {
    throw new JwtRejected(`its typ header is not "${expected.typ}"`);
  }
  checkClaims(payload, expected, now);
  return payload;
}

function checkClaims(
  payload: Readonly<Record<string, unknown>>,
  expected: JwtExpectations,
  now: number,
): void {
  const tolerance = expected.clockToleranceSeconds;
  for (const claim of expected.requiredClaims)
    if (payload[claim] === undefined) throw claimFailed(claim, 'missing');
  if (payload.iss !== expected.issuer) throw claimFailed('iss', 'not the issuer');
  const audiences = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
  if (!audiences.includes(expected.audience)) throw claimFailed('aud', 'not this client');
  for (const claim of ['exp', 'nbf', 'iat']) {
    if (
      payload[claim] !== undefined &&
      (typeof payload[claim] !== 'number' || !Number.isFinite(payload[claim]))
    )
      throw claimFailed(claim, 'not a number');
  }
  const { exp, nbf, iat } = payload as { exp?: number; nbf?: number; iat?: number };
  if (exp !== undefined && exp <= now - tolerance)
    throw claimFailed('exp', `expired ${clockSkew(now - exp, 'ahead of', tolerance)}`);
  if (nbf !== undefined && nbf > now + tolerance)
    throw claimFailed('nbf', `not yet valid ${clockSkew(nbf - now, 'behind', tolerance)}`);
  if (iat !== undefined && iat > now + tolerance)
    throw claimFailed('iat', `in the future ${clockSkew(iat - now, 'behind', tolerance)}`);
  if (iat === undefined || now - iat - tolerance > expected.maxTokenAgeSeconds)
    throw claimFailed(
      'iat',
      `too old ${clockSkew(now - (iat ?? 0) - expected.maxTokenAgeSeconds, 'ahead of', tolerance)}`,
    );
}

/**
 * The clock explanation of a time claim off by `offSeconds`: most often this server's clock and the
 * AS's disagree, by more than the tolerance (`OIDC_CLOCK_TOLERANCE`).
 */
function clockSkew(offSeconds: number, direction: 'ahead of' | 'behind', toleranceSeconds: number): string {
  const off = Number.isFinite(offSeconds) ? `${Math.round(offSeconds)} s` : 'far';
  return (
    `by ${off}: if this server's clock is ${direction} the AS's clock, sync both clocks (NTP), ` +
    `or raise OIDC_CLOCK_TOLERANCE (now ${toleranceSeconds} s)`
  );
}
