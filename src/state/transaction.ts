/**
 * The login transaction: what `/callback` needs to finish a login that `/login` started. Kept
 * server-side, bound to the browser and keyed by its `state` (login-binding.ts), so several tabs
 * can log in at once (one entry each); single-use, capped in number and age.
 *
 * - `state`: RFC 6749 §10.12 (CSRF), 256 random bits.
 * - `nonce`: OIDC Core §3.1.2.1 and §15.5.2, 256 random bits.
 * - PKCE: RFC 7636 §4.1 (verifier of 43 characters from 32 random bytes) and §4.2 (S256).
 *
 * @module
 */
import { randomBuffer } from '../crypto/random.js';
import type { LoginRequest } from '../client/login-options.js';

/** One pending login. */
export interface LoginTransaction {
  readonly state: string;
  readonly nonce: string;
  /** The PKCE code verifier; never leaves the server except to the token endpoint. */
  readonly codeVerifier: string;
  /** Where to go after login (already checked to be local). */
  readonly returnTo: string;
  /** Epoch milliseconds after which the transaction is refused. */
  readonly expiresAtMs: number;
  /** The per-request parameters of this login (to repeat it, and to check `auth_time`). */
  readonly request?: LoginRequest;
  /** Epoch milliseconds when the pushed `request_uri` expires. */
  readonly requestUriExpiresAtMs?: number;
  /** Whether this login is already the fresh push that replaced an expired `request_uri`. */
  readonly retried?: boolean;
  /** Whether the request went through the browser (`par: 'auto'` with an AS without PAR). */
  readonly classic?: boolean;
  /** Whether this is the middleware's own `prompt=none` attempt (routes/silent-login.ts). */
  readonly silent?: boolean;
  /** The DPoP key of this login (`dpop: 'session'`), encrypted. */
  readonly sealedDpopKey?: string;
}

/** Why a `state` could not be taken. */
export type TakeFailure = 'unknown' | 'used' | 'expired';

/**
 * Prefix of the `state` of a login that the callback started by itself for a stale response (see
 * callback.ts). The mark travels in the state, so it is seen even when the browser lost its
 * session cookie: such a login is never restarted a second time, and a browser that keeps losing
 * its cookie gets the explanation instead of a loop.
 */
export const RESTART_STATE_PREFIX = 'r.';

/** A fresh transaction with unguessable state, nonce and verifier (256 independent random bits each, drawn at once). */
export function newTransaction(
  returnTo: string,
  lifetimeSeconds: number,
  nowMs = Date.now(),
  restart = false,
): LoginTransaction {
  const bits = randomBuffer(96);
  return {
    state: (restart ? RESTART_STATE_PREFIX : '') + bits.subarray(0, 32).toString('base64url'),
    nonce: bits.subarray(32, 64).toString('base64url'),
    codeVerifier: bits.subarray(64, 96).toString('base64url'),
    returnTo,
    expiresAtMs: nowMs + lifetimeSeconds * 1000,
  };
}
