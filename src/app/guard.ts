/**
 * `requireLogin()`: protect routes. An anonymous HTML navigation is sent into the login flow with
 * `returnTo` set to the requested path; any other request (fetch, XHR, API clients) gets
 * `401 {"error":"unauthenticated"}`, because a redirect to a login page is useless to a script.
 *
 * @module
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { mountedAuth } from './request-auth.js';
import { invalidArgument, ParLoginError } from '../errors.js';
import { redirectSeeOther, wantsHtml } from '../web/respond.js';
import { correlationId, defaultLogger, logFailure } from '../observability/log.js';

/** Options of {@link requireLogin}. */
export interface RequireLoginOptions {
  /**
   * `auto` redirects HTML navigations and answers 401 to the rest; `never` always answers 401
   * (for API routes); `always` always redirects.
   * @default 'auto'
   */
  redirect?: 'auto' | 'never' | 'always';
}

const UNAUTHENTICATED = JSON.stringify({ error: 'unauthenticated', error_description: 'Log in first.' });

/**
 * A guard without `parLogin()` before it has no instance to answer with: log a structured record
 * (with a correlation id, which the error carries on) on stderr and leave the answer to the app's
 * error handler.
 */
function notMounted(req: Request, next: NextFunction): void {
  const err = new ParLoginError(
    'not_mounted',
    'requireLogin() needs app.use(parLogin()) before it; no login state is available for this request.',
    { hint: 'Mount parLogin() on the app before the routes and routers that use requireLogin().' },
  );
  const id = correlationId();
  logFailure(defaultLogger, err, id, req.method, req.originalUrl.split('?')[0] ?? '/');
  next(Object.assign(err, { correlationId: id }));
}

/**
 * Guard routes behind a login.
 *
 * @throws {TypeError} at creation when an option is invalid.
 * @returns Middleware that calls `next()` for logged-in requests. Used without `parLogin()` mounted
 *   before it, it fails every request with `not_mounted` (500) and says so in the error.
 */
export function requireLogin(options: RequireLoginOptions = {}): RequestHandler {
  const mode = options.redirect ?? 'auto';
  if (!['auto', 'never', 'always'].includes(mode)) {
    throw invalidArgument(
      `requireLogin: redirect must be "auto", "never" or "always" (got "${String(mode)}")`,
    );
  }
  return function guard(req: Request, res: Response, next: NextFunction): void {
    const auth = req.auth;
    const mounted = mountedAuth(req);
    if (auth === undefined || mounted === undefined) return notMounted(req, next);
    if (mounted.storeFailure !== undefined) return mounted.fail(mounted.storeFailure, req, res, next);
    if (auth.isAuthenticated()) return next();
    const redirect =
      mode === 'always' ||
      (mode === 'auto' && (req.method === 'GET' || req.method === 'HEAD') && wantsHtml(req));
    if (redirect) {
      redirectSeeOther(res, auth.loginUrl(req.originalUrl));
      return;
    }
    res.status(401).set('Cache-Control', 'no-store').type('json').send(UNAUTHENTICATED);
  };
}
