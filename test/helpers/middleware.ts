/**
 * The `parLogin()` middleware of a running stack, to call its API (`capabilities()`, `config`), and
 * the pending logins it holds.
 *
 * @module
 */
import type { RequestListener } from 'node:http';
import { PAR_LOGIN_LOCAL } from '../../sample-app/app.js';
import type { ParLoginMiddleware } from '../../src/index.js';
import type { LoginTransaction } from '../../src/state/transaction.js';
import { readStoredLogin } from '../../src/routes/login-binding.js';
import { contextOf } from './tokens.js';

/** The middleware the stack's app mounted. */
export function middlewareOf(stack: { app: RequestListener }): ParLoginMiddleware {
  return (stack.app as unknown as { locals: Record<string, unknown> }).locals[
    PAR_LOGIN_LOCAL
  ] as ParLoginMiddleware;
}

/**
 * The pending logins (login-binding.ts) whose cookies these `Set-Cookie` headers set, read from the
 * middleware's shared state; logins already taken are left out.
 */
export async function pendingLoginsOf(
  middleware: ParLoginMiddleware,
  setCookies: readonly string[],
): Promise<LoginTransaction[]> {
  const ctx = contextOf(middleware);
  const prefix = `${middleware.config.sessionCookieName}-tx-`;
  const flows = new Set(
    setCookies
      .filter((c) => c.startsWith(prefix) && !/Max-Age=0(;|$)/.test(c))
      .map((c) => c.slice(prefix.length, c.indexOf('='))),
  );
  const found: LoginTransaction[] = [];
  for (const flow of flows) {
    const stored = readStoredLogin(await ctx.shared.get(`tx:${flow}`));
    if (stored !== undefined) found.push(stored.tx);
  }
  return found;
}
