/**
 * The login transaction: what `/callback` needs to finish a login that `/login` started. Kept in
 * the server-side session, keyed by its `state`, so several tabs can log in at once (one entry
 * each); single-use, capped in number and age.
 *
 * - `state`: RFC 6749 §10.12 (CSRF), 256 random bits.
 * - `nonce`: OIDC Core §3.1.2.1 and §15.5.2, 256 random bits.
 * - PKCE: RFC 7636 §4.1 (verifier of 43 characters from 32 random bytes) and §4.2 (S256).
 *
 * @module
 */
import { createHash, randomBytes } from 'node:crypto';
import type { LoginRequest } from './auth-params.js';

/** One pending login. */
export interface LoginTransaction {
  readonly state: string;
  readonly nonce: string;
  /** The PKCE code verifier; never leaves the server except to the token endpoint. */
  readonly codeVerifier: string;
  /** Where to go after login (already checked to be local). */
  readonly returnTo: string;
  /** Epoch milliseconds after which the transaction is refused. */
  readonly expiresAt: number;
  /** The per-request parameters of this login (to repeat it, and to check `auth_time`). */
  readonly request?: LoginRequest;
  /** Epoch milliseconds when the pushed `request_uri` expires. */
  readonly requestUriExpiresAt?: number;
  /** Whether this login is already the fresh push that replaced an expired `request_uri`. */
  readonly retried?: boolean;
  /** Whether the request went through the browser (`par: 'auto'` with an AS without PAR). */
  readonly classic?: boolean;
  /** The DPoP key of this login (`dpop: 'session'`), encrypted. */
  readonly sealedDpopKey?: string;
}

/** Why a `state` could not be taken. */
export type TakeFailure = 'unknown' | 'used' | 'expired';

/** The login transactions of one session, as stored in it. */
export interface TransactionStore {
  /** Pending logins by state. */
  pending?: Record<string, LoginTransaction>;
  /** States completed or abandoned recently, with the time their record may be forgotten. */
  used?: Record<string, number>;
}

const MAX_USED = 10;

/** 256 random bits, base64url (43 characters). */
export function randomToken(): string {
  return randomBytes(32).toString('base64url');
}

/** The S256 code challenge of a verifier (RFC 7636 §4.2). */
export function s256(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}

/**
 * Prefix of the `state` of a login that the callback started by itself for a stale response (see
 * callback.ts). The mark travels in the state, so it is seen even when the browser lost its
 * session cookie: such a login is never restarted a second time, and a browser that keeps losing
 * its cookie gets the explanation instead of a loop.
 */
export const RESTART_STATE_PREFIX = 'r.';

/** A fresh transaction with unguessable state, nonce and verifier (256 independent random bits each, drawn at once). */
export function newTransaction(returnTo: string, lifetimeSeconds: number, now = Date.now(), restart = false): LoginTransaction {
  const bits = randomBytes(96);
  return {
    state: (restart ? RESTART_STATE_PREFIX : '') + bits.subarray(0, 32).toString('base64url'),
    nonce: bits.subarray(32, 64).toString('base64url'),
    codeVerifier: bits.subarray(64, 96).toString('base64url'),
    returnTo,
    expiresAt: now + lifetimeSeconds * 1000,
  };
}

/**
 * Add a transaction, first dropping expired ones and then, when `max` are pending, the oldest.
 */
export function addTransaction(store: TransactionStore, tx: LoginTransaction, max: number, now = Date.now()): void {
  const pending = Object.values(store.pending ?? {}).filter((entry) => entry.expiresAt > now);
  pending.sort((a, b) => a.expiresAt - b.expiresAt);
  while (pending.length >= max) pending.shift();
  pending.push(tx);
  store.pending = Object.fromEntries(pending.map((entry) => [entry.state, entry]));
}

/** Whether `state` has a pending transaction in the store (expired or not). */
export function isPending(store: TransactionStore, state: string): boolean {
  return Object.hasOwn(store.pending ?? {}, state);
}

/**
 * Take the transaction of `state` out of the store (single use), or say why there is none.
 * A taken state is remembered until its transaction would have expired, to tell "used" from "unknown".
 */
export function takeTransaction(store: TransactionStore, state: string, now = Date.now()): LoginTransaction | TakeFailure {
  const tx = Object.hasOwn(store.pending ?? {}, state) ? store.pending![state] : undefined;
  if (tx === undefined) {
    const usedUntil = Object.hasOwn(store.used ?? {}, state) ? store.used![state]! : 0;
    return usedUntil > now ? 'used' : 'unknown';
  }
  delete store.pending![state];
  if (Object.keys(store.pending!).length === 0) delete store.pending;
  if (tx.expiresAt <= now) return 'expired';
  rememberUsed(store, state, tx.expiresAt, now);
  return tx;
}

/**
 * Take the pending transaction an error response without `state` most likely belongs to: the
 * newest one whose `request_uri` has expired, else the newest one. `undefined` when none is pending.
 */
export function takeLikelyPending(store: TransactionStore, now = Date.now()): LoginTransaction | undefined {
  const pending = Object.values(store.pending ?? {}).filter((tx) => tx.expiresAt > now).sort((a, b) => b.expiresAt - a.expiresAt);
  const tx = pending.find((entry) => (entry.requestUriExpiresAt ?? Infinity) <= now) ?? pending[0];
  if (tx === undefined) return undefined;
  const taken = takeTransaction(store, tx.state, now);
  return typeof taken === 'string' ? undefined : taken;
}

function rememberUsed(store: TransactionStore, state: string, until: number, now: number): void {
  const used = Object.entries(store.used ?? {}).filter(([, expiry]) => expiry > now);
  used.push([state, until]);
  store.used = Object.fromEntries(used.slice(-MAX_USED));
}

/** Whether anything is pending or remembered (an empty store need not be kept). */
export function isEmpty(store: TransactionStore): boolean {
  return Object.keys(store.pending ?? {}).length === 0 && Object.keys(store.used ?? {}).length === 0;
}
