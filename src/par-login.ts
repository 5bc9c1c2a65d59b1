/**
 * `parLogin()`: resolve the configuration once, build the instance's context, and return the
 * middleware that sets `req.auth` on every request and answers the login routes.
 *
 * @module
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { createAccessTokenSource } from './app/access-token.js';
import { requestAuthFactory, type RequestAuth } from './app/request-auth.js';
import { requireLogin } from './app/guard.js';
import { emit } from './observability/log.js';
import { callbackRoute } from './routes/callback.js';
import { resolveConfig, type ResolvedConfig } from './config/resolve-config.js';
import { createContext, type ParLoginContext } from './context.js';
import { configFromEnv } from './config/env.js';
import { ParLoginError, storeUnavailable } from './errors.js';
import { normalizeLoginOptions, type LoginOptions } from './client/login-options.js';
import { parCapabilities, type ParCapabilities } from './client/capabilities.js';
import { loginRoute, startLogin } from './routes/login.js';
import { silentLogin } from './routes/silent-login.js';
import { safeReturnTo } from './web/return-to.js';
import { logoutConfirmRoute, logoutRoute } from './routes/logout.js';
import { backchannelLogoutRoute } from './routes/backchannel-logout.js';
import { meRoute } from './routes/me.js';
import type { ParLoginOptions } from './config/options.js';
import { handleFailure } from './web/respond.js';
import { createProxyTrustCheck } from './web/proxy-trust.js';
import { sessionData } from './session/session.js';
import { hasCookie } from './session/cookies.js';
import { createOwnSession } from './session/own-session.js';
import { createSessionStore } from './session/session-store.js';
import { openRedis } from './state/redis.js';
import { systemClock } from './clock.js';

/** A route handler; a synchronous one may throw, an asynchronous one rejects. */
type Route = (req: Request, res: Response) => Promise<void> | void;

/** The middleware `parLogin()` returns, with a way to release its connections. */
export interface ParLoginMiddleware extends RequestHandler {
  /** Close the back-channel pool and a Redis connection it opened (for tests and graceful shutdown). */
  close(): Promise<void>;
  /** Resolves once the session store can serve (Redis connected). Never rejects. */
  ready(): Promise<void>;
  /** The validated configuration (read-only; secrets included, do not log it). */
  readonly config: ResolvedConfig;
  /**
   * What the AS offers for PAR (RFC 9126 §5): whether it publishes a PAR endpoint and whether it
   * requires PAR. Discovers the metadata (cached) on first use.
   * @throws {ParLoginError} `discovery_failed` or a transport code.
   */
  capabilities(): Promise<ParCapabilities>;
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Response {
      /**
       * Start a login from any route, with per-request authorization parameters (set by `parLogin()`).
       * Answers the request itself (a 303 to the AS, or an error); never rejects. Typed as always
       * there, for routes mounted after `parLogin()` (see `req.auth`).
       */
      login: (options?: LoginOptions) => Promise<void>;
    }
  }
}

/** Where a middleware keeps its context, for this package's tests and tools (not public API). */
export const INTERNAL_CONTEXT = Symbol.for('express-par-login.context');

/**
 * Create the PAR login middleware. Mount it once, before the routes it protects:
 * `app.use(parLogin())`.
 *
 * Reads `OIDC_*`, `APP_BASE_URL` and `SESSION_*` environment variables; explicit `options`
 * override them. When no session middleware ran before it, it runs its own session, which keeps
 * express-session's contract (cookie, store records, `req.session`: session/own-session.ts), with
 * secure defaults (HttpOnly, SameSite=Lax, Secure and `__Host-` on https; an in-memory store that
 * it warns about when `NODE_ENV=production`).
 *
 * @param options Options overriding the environment.
 * @throws {ConfigError} listing every configuration problem at once.
 * @see RFC 9126 (PAR), RFC 6749 §4.1, RFC 7636, RFC 9207, OpenID Connect Core 1.0 §3.1
 */
export function parLogin(options: ParLoginOptions = {}): ParLoginMiddleware {
  const config = resolveConfig({ ...configFromEnv(), ...definedOnly(options) });
  const clock = systemClock(); // the instance's one clock, the Redis outage records' too
  const redis = openRedis(config, clock);
  const storeHandle = createSessionStore(config, redis);
  const ctx = createContext(config, redis, clock);
  const ownSession = createOwnSession(config, storeHandle);
  const routes = buildRoutes(ctx);
  // Routes that need no session loaded for a browser without one (own-session.ts).
  const sessionless = new Set([`GET ${config.paths.login}`, `GET ${config.paths.callback}`]);
  const routePaths = new Set([...routes.keys()].map((key) => key.slice(key.indexOf(' ') + 1)));
  const createAuth = requestAuthFactory(config, createAccessTokenSource(ctx), ctx.clock);
  const checkProxyTrust = createProxyTrustCheck(config, ctx.clock);
  const guardAll = config.loginRequired ? requireLogin() : undefined; // `loginRequired`: the other routes
  const trySilentLogin = silentLogin(ctx); // `attemptSilentLogin`: a first navigation tries prompt=none
  let warnedTwice = false;

  function dispatch(
    req: Request,
    res: Response,
    next: NextFunction,
    routeKey: string,
    storeFailure?: ParLoginError,
  ): void {
    endExpiredLogin(req, config.sessionAbsoluteTimeoutSeconds, ctx.clock.nowSeconds());
    if (!warnedTwice && (req.auth as RequestAuth | undefined) !== undefined) {
      warnedTwice = true;
      warnSecondInstance(config, req);
    }
    req.auth = createAuth(req, storeFailure);
    res.login = loginStarter(ctx, req, res, next);
    const route = routes.get(routeKey);
    if (route === undefined) {
      if (trySilentLogin?.(req, res, next) === true) return;
      if (guardAll === undefined) next();
      else void guardAll(req, res, next);
      return;
    }
    checkProxyTrust(req);
    const fail = (err: unknown) => handleFailure(config, err, req, res, next);
    try {
      route(req, res)?.catch(fail);
    } catch (err) {
      fail(err);
    }
  }

  const middleware = function parLoginMiddleware(req: Request, res: Response, next: NextFunction): void {
    const path = req.path;
    const routeKey = routePaths.has(path) ? `${req.method} ${path}` : '';
    if (req.session !== undefined) return dispatch(req, res, next, routeKey);
    // Only our routes keep request state (none on the app's routes). A login start keeps nothing in the
    // session (login-binding.ts) and a callback starts its own: a browser without a cookie needs none.
    if (routes.has(routeKey)) {
      const state = ctx.requestState(req);
      state.ownSession = true;
      if (sessionless.has(routeKey) && !hasCookie(req.headers.cookie, config.sessionCookieName)) {
        state.startSession = (response, data) => ownSession.start(response, data);
        return dispatch(req, res, next, routeKey);
      }
    }
    ownSession.middleware(req, res, (err?: unknown) => {
      if (!err) return dispatch(req, res, next, routeKey);
      // The own session has already forgotten the session id it failed to read (own-session.ts).
      const failure = storeUnavailable('load', err);
      // Public routes keep working without a session; only our routes and guards need one.
      if (routes.has(routeKey)) return handleFailure(config, failure, req, res, next);
      dispatch(req, res, next, routeKey, failure);
    });
  } as ParLoginMiddleware;
  Object.defineProperty(middleware, 'config', { value: config });
  Object.defineProperty(middleware, INTERNAL_CONTEXT, { value: ctx });
  middleware.close = async () => {
    await Promise.all([ctx.close(), storeHandle.close(), redis?.close()]);
  };
  middleware.ready = () => storeHandle.ready();
  middleware.capabilities = async () => parCapabilities(await ctx.metadata.get());
  return middleware;
}

/**
 * Say, once per instance, that a request went through a second `parLogin()` (e.g. one in the app and
 * one in a router): each has its own pending logins and cookies, so a login one starts fails at the
 * other's callback with `state_unknown`.
 */
function warnSecondInstance(config: ResolvedConfig, req: Request): void {
  emit(config.logger, 'warn', {
    msg:
      `Two parLogin() middlewares handled ${req.method} ${req.path}: each keeps its own logins, sessions ` +
      'and routes, so a login started by one ends in state_unknown at the other, and req.auth is the last ' +
      "one's. Mount parLogin() once, on the app, before the routers that use req.auth or requireLogin().",
    code: 'two_instances',
  });
}

/** `res.login`: start a login with per-request options; answers the request itself, never rejects. */
function loginStarter(ctx: ParLoginContext, req: Request, res: Response, next: NextFunction) {
  return (loginOptions: LoginOptions = {}): Promise<void> =>
    Promise.resolve()
      .then(() =>
        startLogin(
          ctx,
          req,
          res,
          normalizeLoginOptions({ ...loginOptions, returnTo: undefined }, ctx.config),
          safeReturnTo(loginOptions.returnTo),
        ),
      )
      .catch((err: unknown) => handleFailure(ctx.config, err, req, res, next));
}

function buildRoutes(ctx: ParLoginContext): Map<string, Route> {
  const { paths } = ctx.config;
  const clearCookie = (req: Request, res: Response): void => {
    if (ctx.requestState(req).ownSession === true) {
      res.clearCookie(ctx.config.sessionCookieName, {
        path: '/',
        httpOnly: true,
        sameSite: 'lax',
        secure: ctx.config.secure,
      });
    }
  };
  const login = loginRoute(ctx);
  return new Map<string, Route>([
    [`GET ${paths.login}`, login],
    [`GET ${paths.callback}`, callbackRoute(ctx)],
    [`POST ${paths.logout}`, logoutRoute(ctx, clearCookie)],
    [`GET ${paths.logout}`, logoutConfirmRoute(ctx)],
    [`GET ${paths.me}`, meRoute(ctx)],
    [`POST ${paths.backchannelLogout}`, backchannelLogoutRoute(ctx)],
  ]);
}

/** Log out a session whose absolute lifetime is over (enforced here, not only by the store's TTL). */
function endExpiredLogin(req: Request, absoluteTimeoutSeconds: number, nowSeconds: number): void {
  const data = sessionData(req);
  if (data?.user !== undefined && data.user.loggedInAt + absoluteTimeoutSeconds <= nowSeconds)
    delete data.user;
}

function definedOnly(options: ParLoginOptions): ParLoginOptions {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
}
