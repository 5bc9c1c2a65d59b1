/**
 * `requireLogin()`: protect routes. An anonymous HTML navigation is sent into the login flow with
 * `returnTo` set to the requested path; any other request (fetch, XHR, API clients) gets
 * `401 {"error":"unauthenticated"}`, because a redirect to a login page is useless to a script.
 *
 * @module
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { mountedAuth, type MountedAuth, type RequestAuth } from './request-auth.js';
import { guardConditions, type ClaimCondition, type GuardConditions } from './guard-conditions.js';
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
  /**
   * Claims the logged-in user must have: each equal to its value (or, for an array claim such as
   * `groups`, containing it), or passing its test. Else `403 forbidden`.
   */
  claims?: Readonly<Record<string, ClaimCondition>>;
  /** A check of the app's (may be async): `false` answers `403 forbidden`. Runs after `claims`. */
  check?: (auth: RequestAuth, req: Request) => boolean | Promise<boolean>;
  /**
   * Step-up: the session's `acr` must be one of these. Else an HTML navigation starts a login
   * asking for them (`acr_values`; the callback then checks the new ID token's `acr`), and other
   * requests get `401 login_required`.
   */
  acrValues?: string | readonly string[];
  /**
   * Step-up: the user must have authenticated at most this many seconds ago (`auth_time`). Else, as
   * for `acrValues`, a login with `max_age` (the AS then re-authenticates the user).
   */
  maxAge?: number;
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
  const conditions = guardConditions(options);
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
    if (auth.isAuthenticated()) {
      if (conditions === undefined) return next();
      return guardLoggedIn(conditions, auth, mounted, req, res, next, wantsRedirect(mode, req));
    }
    if (wantsRedirect(mode, req)) {
      redirectSeeOther(res, auth.loginUrl(req.originalUrl));
      return;
    }
    res.status(401).set('Cache-Control', 'no-store').type('json').send(UNAUTHENTICATED);
  };
}

/** Whether an unmet requirement is answered by sending the browser to a login. */
function wantsRedirect(mode: RequireLoginOptions['redirect'], req: Request): boolean {
  return (
    mode === 'always' ||
    (mode === 'auto' && (req.method === 'GET' || req.method === 'HEAD') && wantsHtml(req))
  );
}

/** A logged-in request facing the guard's conditions: step-up first, then claims and check. */
function guardLoggedIn(
  conditions: GuardConditions,
  auth: RequestAuth,
  mounted: MountedAuth,
  req: Request,
  res: Response,
  next: NextFunction,
  redirect: boolean,
): void {
  const stepUp = conditions.stepUp(auth.claims, mounted.nowSeconds());
  if (stepUp !== undefined) {
    if (redirect) return void res.login({ ...stepUp, returnTo: req.originalUrl });
    const needs = new ParLoginError('login_required', 'This route needs a stronger or more recent sign-in.', {
      hint: `Sign in again${stepUp.acrValues ? ` with ${stepUp.acrValues.join(' or ')}` : ''}.`,
    });
    return mounted.fail(needs, req, res, next);
  }
  Promise.resolve()
    .then(() => conditions.qualifies(auth, req))
    .then(
      (qualifies) =>
        qualifies
          ? next()
          : mounted.fail(
              new ParLoginError('forbidden', 'You are signed in, but this page is not open to your account.'),
              req,
              res,
              next,
            ),
      (err: unknown) => mounted.fail(err, req, res, next),
    );
}
