/**
 * `req.auth`: the request's view of the login state, set by `parLogin()` on every request.
 *
 * @module
 */
import type { Request } from 'express';
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
   * instances sharing Redis) when it expires within `refreshSkew` seconds. Never send it to the browser.
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
  constructor(
    req: Request,
    config: ResolvedConfig,
    tokens: AccessTokenSource,
    storeFailure: ParLoginError | undefined,
  ) {
    this.#req = req;
    this.#config = config;
    this.#tokens = tokens;
    this[STORE_FAILURE] = storeFailure;
  }
  accessToken(): Promise<string> {
    if (this[STORE_FAILURE] !== undefined) return Promise.reject(this[STORE_FAILURE]);
    return this.#tokens.accessToken(this.#req);
  }
  authorizationHeaders(method: string, url: string, nonce?: string): Promise<Record<string, string>> {
    if (this[STORE_FAILURE] !== undefined) return Promise.reject(this[STORE_FAILURE]);
    return this.#tokens.authorizationHeaders(this.#req, method, url, nonce);
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

/** Create `req.auth` for a request. */
export function createRequestAuth(
  req: Request,
  config: ResolvedConfig,
  tokens: AccessTokenSource,
  storeFailure?: ParLoginError,
): RequestAuth {
  return new SessionAuth(req, config, tokens, storeFailure);
}
