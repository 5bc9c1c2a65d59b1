/**
 * Where a pending login lives between `/login` and `/callback`: bound to the browser, not in its
 * session.
 *
 * A login is a transaction (transaction.ts) kept in the shared state (shared-state.ts: Redis when
 * sessions are, else memory) under a digest of its `state`, and a cookie of its own in the browser,
 * named after that digest (`<session cookie>-tx-<flow id>`: HttpOnly, SameSite=Lax, Secure and the
 * `__Host-` prefix on https, living as long as the login) and holding a random secret whose
 * digest is stored with the transaction. The callback takes the transaction of its `state` only
 * when the browser presents that cookie with that secret: the state is bound to the browser that
 * started the login (RFC 6749 §10.12, RFC 9700 §4.7.1). The name alone is not enough, since anyone
 * who knows the state can compute it: whoever steals an authorization response (code and state, from
 * a log or a history) cannot finish that login in another browser, and PKCE keeps its meaning (the
 * verifier goes to the token request only for the browser holding the secret).
 *
 * Why not the session: the browser keeps only the last session cookie it was sent, so logins in
 * several tabs at once (a common complaint about login middleware), or a login started while
 * another tab's callback regenerates the session, lost their transactions. One cookie and one
 * entry per login cannot be overwritten by another tab. And an anonymous `/login` then creates no
 * session at all: no store write, no signed session cookie, nothing kept for an abandoned login but
 * the entry itself.
 *
 * Single use: taking a transaction swaps its entry for a tombstone atomically (a replayed or
 * double-submitted callback finds `used`), which lives until the login would have expired. A login
 * started in a browser that holds `maxPendingLogins` of these cookies drops the oldest.
 *
 * Crafted cookies cost little: a cookie is a pending login's only when its flow id and value have
 * the exact shape written here (anything else is never looked up nor answered), and of those only
 * the newest `maxPendingLogins` count where several are weighed. A request carrying hundreds of
 * them makes a callback read at most `maxPendingLogins` entries and a `/login` drop at most one.
 *
 * @module
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request, Response } from 'express';
import type { ParLoginContext } from '../context.js';
import { setCookieValue } from '../session/cookies.js';
import { flowId } from '../observability/debug.js';
import { randomToken } from '../crypto/random.js';
import {
  transactionFields,
  transactionFromFields,
  type LoginTransaction,
  type TakeFailure,
} from '../state/transaction.js';

/** The value a taken transaction's entry is swapped for. */
const USED = 'used';

const key = (flow: string): string => `tx:${flow}`;
const prefixOf = (ctx: ParLoginContext): string => `${ctx.config.sessionCookieName}-tx-`;

/** A pending login's cookie as the browser presents it: its flow id, the login's expiry (epoch ms), its secret. */
interface PresentedLogin {
  readonly flow: string;
  readonly expiresAtMs: number;
  readonly secret: string;
}

/** What the shared state holds for a pending login: the transaction and the digest of its cookie's secret. */
export interface StoredLogin {
  readonly binding: string;
  readonly tx: LoginTransaction;
}

/**
 * The digest of a cookie's secret stored with its login: 128 bits of its SHA-256 (the secret has 128
 * bits; the stored digest is only ever compared with the digest of a presented secret).
 */
const digest = (secret: string): Buffer => createHash('sha256').update(secret).digest().subarray(0, 16);

/** The stored form of a pending login: `[binding, ...transactionFields(tx)]` as JSON. */
function storedForm(binding: string, tx: LoginTransaction): string {
  return JSON.stringify([binding, ...transactionFields(tx)]);
}

/**
 * A stored login read back, or `undefined` for anything else (a tombstone, or an entry of another
 * shape). Exported for this package's tests.
 */
export function readStoredLogin(stored: string | undefined): StoredLogin | undefined {
  if (stored === undefined || stored === USED) return undefined;
  try {
    const parsed = JSON.parse(stored) as unknown;
    if (!Array.isArray(parsed)) return undefined; // e.g. a login stored by 0.1: the browser starts anew
    const [binding, ...fields] = parsed as unknown[];
    const tx = transactionFromFields(fields);
    return typeof binding === 'string' && tx !== undefined ? { binding, tx } : undefined;
  } catch {
    return undefined;
  }
}

/** The stored login's transaction, when `stored` is one and `login` presents its secret; else `undefined`. */
function opened(stored: string | undefined, login: PresentedLogin): LoginTransaction | undefined {
  const entry = readStoredLogin(stored);
  if (entry === undefined) return undefined;
  const { binding, tx } = entry;
  const expected = Buffer.from(binding, 'base64url');
  const presented = digest(login.secret);
  return expected.length === presented.length && timingSafeEqual(expected, presented) ? tx : undefined;
}

/** A flow id as `flowId()` makes it: 10 base64url characters. */
const FLOW_ID = /^[\w-]{10}$/;
/**
 * A cookie value as {@link bindLogin} writes it: the login's expiry (epoch ms) in base36, `.`, and a
 * 16-byte secret in base64url without padding (22 characters, the last holding 4 bits).
 */
const COOKIE_VALUE = /^([1-9a-z][0-9a-z]{0,10})\.([\w-]{21}[AQgw])$/;

/**
 * The pending logins' cookies the request carries, each flow once: only names and values of the
 * exact shape this module writes, so that crafted cookies are never looked up nor answered.
 */
function presentedLogins(ctx: ParLoginContext, req: Request): PresentedLogin[] {
  const header = req.headers.cookie;
  if (header === undefined) return [];
  const prefix = prefixOf(ctx);
  const found = new Map<string, PresentedLogin>();
  for (const pair of header.split(';')) {
    const trimmed = pair.trim();
    if (!trimmed.startsWith(prefix)) continue;
    const equals = trimmed.indexOf('=');
    if (equals < 0) continue;
    const flow = trimmed.slice(prefix.length, equals);
    const value = COOKIE_VALUE.exec(trimmed.slice(equals + 1));
    if (!FLOW_ID.test(flow) || value === null || found.has(flow)) continue;
    const expiresAtMs = Number.parseInt(value[1]!, 36);
    if (Number.isSafeInteger(expiresAtMs)) found.set(flow, { flow, expiresAtMs, secret: value[2]! });
  }
  return [...found.values()];
}

/** The newest `count` of `logins` by expiry, newest first. */
function newest(logins: PresentedLogin[], count: number): PresentedLogin[] {
  return logins.sort((a, b) => b.expiresAtMs - a.expiresAtMs).slice(0, count);
}

/** A `Set-Cookie` value for a pending login's cookie; `maxAgeSeconds` 0 deletes it. */
function loginCookie(ctx: ParLoginContext, flow: string, value: string, maxAgeSeconds: number): string {
  return setCookieValue(`${prefixOf(ctx)}${flow}`, value, { maxAgeSeconds }, ctx.config.secure);
}

/**
 * Seconds a tombstone or entry must live for a login expiring at `expiresAtMs`: at least 1, at most
 * the longest login.
 */
function secondsUntil(ctx: ParLoginContext, expiresAtMs: number): number {
  const longest = ctx.config.maxRequestUriLifetimeSeconds + ctx.config.loginGraceSeconds;
  return Math.min(longest, Math.max(1, Math.ceil((expiresAtMs - ctx.clock.nowMs()) / 1000)));
}

/**
 * Bind a login to the browser: its entry in the shared state, and its cookie. When the browser
 * already holds `maxPendingLogins` pending logins, the oldest is forgotten to make room. Only the
 * newest `maxPendingLogins` of its cookies are weighed, so one `/login` drops at most one, whatever
 * the browser sends.
 *
 * @throws {ParLoginError} `session_store_unavailable` when the shared state cannot be written.
 */
export async function bindLogin(
  ctx: ParLoginContext,
  req: Request,
  res: Response,
  tx: LoginTransaction,
): Promise<void> {
  const flow = flowId(tx.state);
  const seconds = secondsUntil(ctx, tx.expiresAtMs);
  const secret = randomToken(16);
  const stored = storedForm(digest(secret).toString('base64url'), tx);
  const { maxPendingLogins } = ctx.config;
  const [dropped] = newest(presentedLogins(ctx, req), maxPendingLogins).slice(maxPendingLogins - 1);
  await (dropped === undefined
    ? ctx.shared.set(key(flow), stored, seconds)
    : Promise.all([ctx.shared.set(key(flow), stored, seconds), ctx.shared.delete(key(dropped.flow))]));
  const cookie = loginCookie(ctx, flow, `${tx.expiresAtMs.toString(36)}.${secret}`, seconds);
  res.append('Set-Cookie', dropped === undefined ? cookie : [cookie, loginCookie(ctx, dropped.flow, '', 0)]);
}

/**
 * Take the login `login` presents, whose entry read `stored`, for `state` (single use), or say why
 * not; its cookie is cleared.
 */
async function take(
  ctx: ParLoginContext,
  res: Response,
  login: PresentedLogin,
  stored: string | undefined,
  state: string,
): Promise<LoginTransaction | TakeFailure> {
  res.append('Set-Cookie', loginCookie(ctx, login.flow, '', 0));
  if (stored === USED) return 'used';
  const tx = opened(stored, login);
  if (tx === undefined || tx.state !== state) return 'unknown';
  // The swap is the single use: of two callbacks racing with the same cookie, one gets the login.
  const previous = await ctx.shared.swap(key(login.flow), USED, secondsUntil(ctx, tx.expiresAtMs));
  if (previous !== stored) return previous === USED ? 'used' : 'unknown';
  return tx.expiresAtMs <= ctx.clock.nowMs() ? 'expired' : tx;
}

/**
 * Take the transaction of `state` (single use) when this browser presents its login's cookie with
 * its secret, or say why there is none: `used` (taken before, whichever browser asks), `expired`, or
 * `unknown` (never started, gone, or started in another browser). A login this browser cannot open
 * is left as it is, for the browser that can. The login's cookie is cleared. One read of the shared
 * state, whatever cookies the browser sends.
 *
 * @throws {ParLoginError} `session_store_unavailable` when the shared state cannot be read.
 */
export async function takeBoundLogin(
  ctx: ParLoginContext,
  req: Request,
  res: Response,
  state: string,
): Promise<LoginTransaction | TakeFailure> {
  const flow = flowId(state);
  const login = presentedLogins(ctx, req).find((candidate) => candidate.flow === flow);
  const stored = await ctx.shared.get(key(flow));
  if (login === undefined) return stored === USED ? 'used' : 'unknown';
  return take(ctx, res, login, stored, state);
}

/**
 * The pending login an error response without `state` most likely belongs to (RFC 9126 §4: the AS
 * no longer knows the request): of the newest `maxPendingLogins` unexpired logins whose cookie and
 * secret this browser presents, the newest whose `request_uri` has expired, else the newest. Taken
 * like {@link takeBoundLogin}; `undefined` when none is pending. At most `maxPendingLogins` reads of
 * the shared state, whatever cookies the browser sends.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9126#section-4
 */
export async function takeLikelyBoundLogin(
  ctx: ParLoginContext,
  req: Request,
  res: Response,
): Promise<LoginTransaction | undefined> {
  const now = ctx.clock.nowMs();
  const candidates = newest(
    presentedLogins(ctx, req).filter((login) => login.expiresAtMs > now),
    ctx.config.maxPendingLogins,
  );
  const entries = await Promise.all(candidates.map((login) => ctx.shared.get(key(login.flow))));
  const pending = candidates
    .map((login, index) => ({ login, stored: entries[index], tx: opened(entries[index], login) }))
    .filter(({ login, tx }) => tx !== undefined && flowId(tx.state) === login.flow && tx.expiresAtMs > now)
    .sort((a, b) => b.tx!.expiresAtMs - a.tx!.expiresAtMs);
  const likely = pending.find(({ tx }) => (tx!.requestUriExpiresAtMs ?? Infinity) <= now) ?? pending[0];
  if (likely === undefined) return undefined;
  const taken = await take(ctx, res, likely.login, likely.stored, likely.tx!.state);
  return typeof taken === 'string' ? undefined : taken;
}
