/**
 * Logins in several tabs at once. A transaction lives in the session of the `/login` that started
 * it, and the browser keeps only the last session cookie it receives, so a tab's callback can arrive
 * with a session that does not hold its transaction (the "state mismatch" users hit most):
 * - first logins of a browser without a session: each `/login` creates a session of its own;
 * - a login started while another tab's callback is finishing: that callback regenerates the
 *   session it loaded (without the new transaction, saved a moment later), and the browser ends up
 *   with the regenerated session.
 *
 * So every login is also bound to the browser by a cookie of its own, named after
 * a digest of its `state` (`<session cookie>-tx-<digest>`: HttpOnly, SameSite=Lax, Secure on https,
 * living as long as the login), and a copy of its transaction waits in the shared state. A callback
 * whose state is not in the browser's session takes that copy only when the browser presents the
 * login's cookie, which no other site can set: the state stays bound to the browser that started
 * the login (RFC 6749 §10.12), and the copy is single-use like the original.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import type { Request, Response } from 'express';
import type { ParLoginContext } from './context.js';
import { flowId } from './debug.js';
import type { LoginTransaction } from './transaction.js';

const key = (state: string): string => `tx:${createHash('sha256').update(state).digest('base64url')}`;
const cookieName = (ctx: ParLoginContext, state: string): string => `${ctx.config.sessionCookieName}-tx-${flowId(state)}`;

/** Whether the request carries a cookie named `name` (its value does not matter). */
function presents(req: Request, name: string): boolean {
  return String(req.headers.cookie ?? '').split(/;\s*/).some((pair) => pair.startsWith(`${name}=`));
}

function cookieOptions(ctx: ParLoginContext, maxAge?: number) {
  return { httpOnly: true, sameSite: 'lax' as const, secure: ctx.config.secure, path: '/', ...(maxAge === undefined ? {} : { maxAge }) };
}

/** Bind a login to the browser: its cookie, and a copy of its transaction. */
export async function bindLogin(ctx: ParLoginContext, res: Response, tx: LoginTransaction): Promise<void> {
  const lifetimeMs = Math.max(1000, tx.expiresAt - Date.now());
  await ctx.shared.set(key(tx.state), JSON.stringify(tx), Math.ceil(lifetimeMs / 1000));
  res.cookie(cookieName(ctx, tx.state), '1', cookieOptions(ctx, lifetimeMs));
}

/**
 * The transaction of `state` bound by {@link bindLogin}, taken (single use), when this browser
 * presents the login's cookie; else `undefined`. The cookie is cleared either way.
 */
export async function takeBoundLogin(ctx: ParLoginContext, req: Request, res: Response, state: string): Promise<LoginTransaction | undefined> {
  const name = cookieName(ctx, state);
  if (!presents(req, name)) return undefined;
  res.clearCookie(name, cookieOptions(ctx));
  const stored = await ctx.shared.get(key(state));
  if (stored === undefined) return undefined;
  await ctx.shared.delete(key(state));
  const tx = JSON.parse(stored) as LoginTransaction;
  return tx.state === state ? tx : undefined;
}

/** Forget the bound copy of a transaction taken from the session, and its cookie. */
export async function releaseBoundLogin(ctx: ParLoginContext, req: Request, res: Response, state: string): Promise<void> {
  const name = cookieName(ctx, state);
  if (!presents(req, name)) return;
  res.clearCookie(name, cookieOptions(ctx));
  await ctx.shared.delete(key(state));
}
