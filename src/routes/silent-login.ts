/**
 * Silent login (`attemptSilentLogin`): the first HTML navigation of an anonymous browser starts a
 * login with `prompt=none` (OIDC Core §3.1.2.1), so a user still signed in at the AS comes back
 * logged in without seeing the AS. It is tried once per browser: a cookie that lives until the
 * browser closes marks the attempt, set before the AS is asked and by logout.
 *
 * It must be harmless. When the AS answers that it would need the user (`login_required`,
 * `consent_required`, `interaction_required`, `account_selection_required`: OIDC Core §3.1.2.6),
 * the browser goes on to the page it asked for, anonymous; another AS error does the same and is
 * logged. When the attempt cannot even start (the AS is down, the store fails, the login-start cap
 * is reached), the page is served at once, anonymous, and the cause is logged.
 *
 * @see https://openid.net/specs/openid-connect-core-1_0.html#AuthRequest
 * @see https://openid.net/specs/openid-connect-core-1_0.html#AuthError
 * @module
 */
import type { NextFunction, Request, Response } from 'express';
import { normalizeLoginOptions } from '../client/login-options.js';
import type { ParLoginContext } from '../context.js';
import { isParLoginError } from '../errors.js';
import { logWorkedAround } from '../observability/log.js';
import { hasCookie, setCookieValue } from '../session/cookies.js';
import { sessionData } from '../session/session.js';
import type { LoginTransaction } from '../state/transaction.js';
import { safeReturnTo } from '../web/return-to.js';
import { wantsHtml } from '../web/respond.js';
import { startLogin } from './login.js';

/** The AS would have needed the user: an expected answer to `prompt=none` (OIDC Core §3.1.2.6). */
const NEEDS_THE_USER = new Set([
  'login_required',
  'consent_required',
  'interaction_required',
  'account_selection_required',
]);

/** The cookie that marks a browser as tried: named after the session cookie (its `__Host-` too). */
export function silentCookieName(ctx: ParLoginContext): string {
  return `${ctx.config.sessionCookieName}-silent`;
}

/** A `Set-Cookie` value marking this browser as tried, until it closes. */
export function triedCookie(ctx: ParLoginContext): string {
  return setCookieValue(silentCookieName(ctx), '1', { untilBrowserCloses: true }, ctx.config.secure);
}

/**
 * The silent attempt, built once: `undefined` when it is off (or every route already needs a full
 * login, `loginRequired`). The returned function answers the request itself and says so (`true`),
 * or leaves it to the app (`false`).
 */
export function silentLogin(
  ctx: ParLoginContext,
): ((req: Request, res: Response, next: NextFunction) => boolean) | undefined {
  const { config } = ctx;
  if (!config.attemptSilentLogin || config.loginRequired) return undefined;
  const request = normalizeLoginOptions({ prompt: 'none' }, config);
  const cookieName = silentCookieName(ctx);
  return (req, res, next) => {
    if (
      req.method !== 'GET' ||
      !wantsHtml(req) ||
      isPrefetch(req) ||
      sessionData(req)?.user !== undefined ||
      hasCookie(req.headers.cookie, cookieName)
    )
      return false;
    res.append('Set-Cookie', triedCookie(ctx));
    config.trace.step('login.silent', { path: req.path });
    startLogin(ctx, req, res, request, safeReturnTo(req.originalUrl), { silent: true }).catch(
      (err: unknown) => {
        logWorkedAround(config.logger, err, {
          msg: 'A silent login could not start: the page is served without it.',
          code: 'silent_login_skipped',
          method: req.method,
          path: req.path,
        });
        if (!res.headersSent) next();
      },
    );
    return true;
  };
}

/**
 * Whether the AS answered a silent login with an error that ends it quietly: the four that mean
 * the user is needed end it without a record; any other AS error is logged as a warning first.
 */
export function endsSilently(ctx: ParLoginContext, tx: LoginTransaction, err: unknown): boolean {
  if (tx.silent !== true || !isParLoginError(err) || err.code !== 'authorization_error') return false;
  const asError = err.asError ?? '';
  if (NEEDS_THE_USER.has(asError)) {
    ctx.config.trace.step('callback.silent_declined', { as_error: asError });
    return true;
  }
  logWorkedAround(ctx.config.logger, err, {
    msg: 'The authorization server refused a silent login: the user goes on without it.',
    code: 'silent_login_failed',
  });
  return true;
}

/** Browsers' speculative loads must not spend the one attempt (Fetch: `Sec-Purpose`, legacy `Purpose`). */
function isPrefetch(req: Request): boolean {
  const purpose = req.headers['sec-purpose'] ?? req.headers.purpose;
  return typeof purpose === 'string' && purpose.includes('prefetch');
}
