/**
 * `req.auth`: the request's view of the login state, set by `parLogin()` on every request.
 *
 * @module
 */
import type { Request } from 'express';
import type { AccessTokenSource } from './access-token.js';
import type { ResolvedConfig } from './config.js';
import type { ParLoginError } from './errors.js';
import type { IdTokenClaims } from './id-token.js';
import { sessionUser } from './session.js';

/** The login state of one request. */
export interface RequestAuth {
  /** Whether the session holds a logged-in user. */
  isAuthenticated(): boolean;
  /** The ID token's claims of the logged-in user, or `undefined`. */
  readonly claims: IdTokenClaims | undefined;
  /** The URL that starts a login and comes back to `returnTo` (a local path). */
  loginUrl(returnTo?: string): string;
  /**
   * A valid access token for the app's own server-side calls, refreshed (single-flight, across
   * instances sharing Redis) when it expires within `refreshSkew` seconds. Never send it to the browser.
   *
   * @throws {ParLoginError} `unauthenticated` (401) when not logged in; `login_required` (401) when the
   *   session has ended at the AS or cannot be refreshed; `token_error` / transport codes (502/504) when
   *   the AS fails; `session_store_unavailable` (503).
   */
  accessToken(): Promise<string>;
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** Set by `parLogin()`. */
      auth?: RequestAuth;
    }
  }
}

/** Where `req.auth` keeps the session store's failure for the guard (not part of the public API). */
export const STORE_FAILURE = Symbol('express-par-login store failure');

class SessionAuth implements RequestAuth {
  readonly #req: Request;
  readonly #config: ResolvedConfig;
  readonly #tokens: AccessTokenSource;
  readonly [STORE_FAILURE]: ParLoginError | undefined;
  constructor(req: Request, config: ResolvedConfig, tokens: AccessTokenSource, storeFailure: ParLoginError | undefined) {
    this.#req = req;
    this.#config = config;
    this.#tokens = tokens;
    this[STORE_FAILURE] = storeFailure;
  }
  accessToken(): Promise<string> {
    if (this[STORE_FAILURE] !== undefined) return Promise.reject(this[STORE_FAILURE]);
    return this.#tokens(this.#req);
  }
  /** The app's origin, for same-origin checks of requests that change state (the API proxy's). */
  get appOrigin(): string {
    return this.#config.appOrigin;
  }
  isAuthenticated(): boolean {
    return sessionUser(this.#req) !== undefined;
  }
  get claims(): IdTokenClaims | undefined {
    return sessionUser(this.#req)?.claims;
  }
  loginUrl(returnTo?: string): string {
    const login = this.#config.basePath + this.#config.paths.login;
    return returnTo === undefined ? login : `${login}?returnTo=${encodeURIComponent(returnTo)}`;
  }
}

/** Create `req.auth` for a request. */
export function createRequestAuth(req: Request, config: ResolvedConfig, tokens: AccessTokenSource, storeFailure?: ParLoginError): RequestAuth {
  return new SessionAuth(req, config, tokens, storeFailure);
}
