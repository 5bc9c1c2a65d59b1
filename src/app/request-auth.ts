/**
 * `req.auth`: the request's view of the login state, set by `parLogin()` on every request.
 *
 * @module
 */
import type { NextFunction, Request, Response } from 'express';
import { handleFailure } from '../web/respond.js';
import type { Clock } from '../clock.js';
import type { AccessTokenSource } from './access-token.js';
import type { ResolvedConfig } from '../config/resolve-config.js';
import type { ParLoginError } from '../errors.js';
import type { IdTokenClaims } from '../client/id-token.js';
import { sessionUser, type SessionUser } from '../session/session.js';

/** The login state of one request. */
export interface RequestAuth {
  /** Whether the session holds a logged-in user. */
  isAuthenticated(): boolean;
  /** The ID token's claims of the logged-in user, or `undefined`. */
  readonly claims: IdTokenClaims | undefined;
  /** The URL that starts a login and comes back to `returnTo` (a local path). */
  loginUrl(returnTo?: string): string;
  /** Rich Authorization Requests (RFC 9396) of the login: what was asked and what the AS granted. */
  readonly authorizationDetails: SessionUser['authorizationDetails'];
  /** The access token's type at login: `Bearer`, or `DPoP` when sender-constrained with DPoP (RFC 9449). */
  readonly tokenType: string | undefined;
  /**
   * A valid access token for the app's own server-side calls, refreshed (single-flight, across
   * instances sharing Redis) when it expires within `refreshSkewSeconds` seconds. Never send it to the browser.
   * A DPoP-bound token (RFC 9449 §7.1) is useless without a proof: use {@link RequestAuth.authorizationHeaders}.
   *
   * @throws {ParLoginError} `unauthenticated` (401) when not logged in; `login_required` (401) when the
   *   session has ended at the AS or cannot be refreshed; `token_error` / transport codes (502/504) when
   *   the AS fails; `session_store_unavailable` (503).
   */
  accessToken(): Promise<string>;
  /**
   * The headers that authorize the app's call to a resource server: `Authorization: Bearer <token>`,
   * or for DPoP-bound tokens `Authorization: DPoP <token>` and a `DPoP` proof for this method and URL
   * with the token's hash `ath` and the server's `nonce` when given (RFC 9449 §7.1, §9).
   *
   * @param method The HTTP method of the call.
   * @param url The absolute URL of the call (its query and fragment are not part of the proof).
   * @param nonce A `DPoP-Nonce` the resource server asked for.
   * @throws {ParLoginError} the codes of {@link RequestAuth.accessToken}.
   */
  authorizationHeaders(method: string, url: string, nonce?: string): Promise<Record<string, string>>;
  /**
   * The user's claims from the AS's userinfo endpoint, fetched now (not cached) with a valid access
   * token (refreshed like {@link RequestAuth.accessToken}; with a DPoP proof for a DPoP-bound token).
   * Its `sub` must be the session's. For claims the ID token lacks, when `fetchUserinfo` at every
   * login is more than the app needs.
   *
   * @see https://openid.net/specs/openid-connect-core-1_0.html#UserInfo
   * @throws {ParLoginError} `userinfo_error` (no userinfo endpoint, refused, not JSON, another `sub`),
   *   and the codes of {@link RequestAuth.accessToken}.
   */
  userinfo(): Promise<Record<string, unknown>>;
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /**
       * The request's login state, set by `parLogin()` on every request it handles. Typed as always
       * there, for routes mounted after `parLogin()`; on a request `parLogin()` did not handle (a
       * route mounted before it, or in an app it is not mounted in) it is `undefined` at run time,
       * and `requireLogin()` answers such requests with `not_mounted`.
       */
      auth: RequestAuth;
    }
  }
}

/**
 * What `requireLogin()` and `apiProxy()` read of `req.auth` beyond {@link RequestAuth} (not public
 * API): declared here so that no module reaches into another's object with a cast.
 */
export interface MountedAuth {
  /** Why the session could not be loaded for this request, if it could not. */
  readonly storeFailure: ParLoginError | undefined;
  /** The app's origin, for same-origin checks of requests that change state. */
  readonly appOrigin: string;
  /** Log and answer `err` as the middleware's own routes do (web/respond.ts), with this instance's settings. */
  fail(err: unknown, req: Request, res: Response, next: NextFunction): void;
  /** The instance's clock, in epoch seconds (clock.ts). */
  nowSeconds(): number;
}

/** `req.auth`'s {@link MountedAuth}; `undefined` when `parLogin()` did not run for this request. */
export function mountedAuth(req: Request): MountedAuth | undefined {
  return req.auth instanceof SessionAuth ? SessionAuth.mounted(req.auth) : undefined;
}

class SessionAuth implements RequestAuth {
  readonly #req: Request;
  readonly #config: ResolvedConfig;
  readonly #tokens: AccessTokenSource;
  readonly #storeFailure: ParLoginError | undefined;
  /** The instance's part of {@link MountedAuth}, built once per instance (no allocation per request). */
  readonly #mounted: MountedAuth;
  static mounted(auth: SessionAuth): MountedAuth {
    const storeFailure = auth.#storeFailure;
    return storeFailure === undefined ? auth.#mounted : { ...auth.#mounted, storeFailure };
  }
  constructor(
    req: Request,
    config: ResolvedConfig,
    tokens: AccessTokenSource,
    mounted: MountedAuth,
    storeFailure: ParLoginError | undefined,
  ) {
    this.#req = req;
    this.#config = config;
    this.#tokens = tokens;
    this.#mounted = mounted;
    this.#storeFailure = storeFailure;
  }
  accessToken(): Promise<string> {
    if (this.#storeFailure !== undefined) return Promise.reject(this.#storeFailure);
    return this.#tokens.accessToken(this.#req);
  }
  authorizationHeaders(method: string, url: string, nonce?: string): Promise<Record<string, string>> {
    if (this.#storeFailure !== undefined) return Promise.reject(this.#storeFailure);
    return this.#tokens.authorizationHeaders(this.#req, method, url, nonce);
  }
  userinfo(): Promise<Record<string, unknown>> {
    if (this.#storeFailure !== undefined) return Promise.reject(this.#storeFailure);
    return this.#tokens.userinfo(this.#req);
  }
  isAuthenticated(): boolean {
    return sessionUser(this.#req) !== undefined;
  }
  get claims(): IdTokenClaims | undefined {
    return sessionUser(this.#req)?.claims;
  }
  get authorizationDetails(): SessionUser['authorizationDetails'] {
    return sessionUser(this.#req)?.authorizationDetails;
  }
  get tokenType(): string | undefined {
    return sessionUser(this.#req)?.tokenType;
  }
  loginUrl(returnTo?: string): string {
    const login = this.#config.basePath + this.#config.paths.login;
    return returnTo === undefined ? login : `${login}?returnTo=${encodeURIComponent(returnTo)}`;
  }
}

/** Create `req.auth` for a request of one instance (built by {@link requestAuthFactory}). */
export type RequestAuthFactory = (req: Request, storeFailure?: ParLoginError) => RequestAuth;

/**
 * The factory of `req.auth` for one instance: what every request's `req.auth` shares (the
 * instance's {@link MountedAuth}: origin, responder, clock) is built here, once.
 */
export function requestAuthFactory(
  config: ResolvedConfig,
  tokens: AccessTokenSource,
  clock: Clock,
): RequestAuthFactory {
  const mounted: MountedAuth = Object.freeze({
    storeFailure: undefined,
    appOrigin: config.appOrigin,
    fail: (err: unknown, req: Request, res: Response, next: NextFunction) =>
      handleFailure(config, err, req, res, next),
    nowSeconds: () => clock.nowSeconds(),
  });
  return (req, storeFailure) => new SessionAuth(req, config, tokens, mounted, storeFailure);
}
