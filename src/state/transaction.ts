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

/** The layout of {@link transactionFields}; a reader refuses any other. */
const FIELDS_LAYOUT = 1;
const RETRIED = 1;
const CLASSIC = 2;
const SILENT = 4;

/** Whether `request` asks for nothing beyond the configuration (a plain `GET /login`): kept as `0`. */
const isPlain = (request: LoginRequest): boolean =>
  Object.keys(request).length === 1 && request.params.length === 0;

/**
 * The transaction as the shared state keeps it: its fields in a fixed order, without their names.
 * Every `/login` writes one and most are abandoned, so its size is what an abandoned login costs
 * (about half of the named form's characters: a plain login's whole entry is about 190 characters).
 */
export function transactionFields(tx: LoginTransaction): unknown[] {
  const flags = (tx.retried ? RETRIED : 0) | (tx.classic ? CLASSIC : 0) | (tx.silent ? SILENT : 0);
  const request = tx.request === undefined ? null : isPlain(tx.request) ? 0 : tx.request;
  const fields: unknown[] = [FIELDS_LAYOUT, tx.state, tx.nonce, tx.codeVerifier, tx.returnTo, tx.expiresAtMs];
  fields.push(tx.requestUriExpiresAtMs ?? 0, flags, request);
  if (tx.sealedDpopKey !== undefined) fields.push(tx.sealedDpopKey);
  return fields;
}

const PLAIN_REQUEST: LoginRequest = Object.freeze({ params: Object.freeze([]) });

/** The transaction of {@link transactionFields}' output, or `undefined` when `fields` are not of that layout. */
export function transactionFromFields(fields: readonly unknown[]): LoginTransaction | undefined {
  const [layout, state, nonce, codeVerifier, returnTo, expiresAtMs, uriExpiresAtMs, flags, request, dpopKey] =
    fields;
  if (
    layout !== FIELDS_LAYOUT ||
    typeof state !== 'string' ||
    typeof nonce !== 'string' ||
    typeof codeVerifier !== 'string' ||
    typeof returnTo !== 'string' ||
    typeof expiresAtMs !== 'number' ||
    typeof uriExpiresAtMs !== 'number' ||
    typeof flags !== 'number' ||
    (request !== null && request !== 0 && typeof request !== 'object') ||
    (dpopKey !== undefined && typeof dpopKey !== 'string')
  )
    return undefined;
  return {
    state,
    nonce,
    codeVerifier,
    returnTo,
    expiresAtMs,
    ...(request === 0
      ? { request: PLAIN_REQUEST }
      : request === null
        ? {}
        : { request: request as LoginRequest }),
    ...(uriExpiresAtMs !== 0 ? { requestUriExpiresAtMs: uriExpiresAtMs } : {}),
    ...(flags & RETRIED ? { retried: true } : {}),
    ...(flags & CLASSIC ? { classic: true } : {}),
    ...(flags & SILENT ? { silent: true } : {}),
    ...(dpopKey !== undefined ? { sealedDpopKey: dpopKey } : {}),
  };
}
