/**
 * `req.auth`: the request's view of the login state, set by `parLogin()` on every request.
 *
 * @module
 */
import type { Request } from 'express';
import type { ResolvedConfig } from './config.js';
import type { ParLoginError } from './errors.js';
import type { IdTokenClaims } from './id-token.js';
import { sessionUser, type SessionUser } from './session.js';

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
  /** The access token's type: `Bearer`, or `DPoP` when sender-constrained with DPoP (RFC 9449). */
  readonly tokenType: string | undefined;
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
  readonly [STORE_FAILURE]: ParLoginError | undefined;
  constructor(req: Request, config: ResolvedConfig, storeFailure: ParLoginError | undefined) {
    this.#req = req;
    this.#config = config;
    this[STORE_FAILURE] = storeFailure;
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
export function createRequestAuth(req: Request, config: ResolvedConfig, storeFailure?: ParLoginError): RequestAuth {
  return new SessionAuth(req, config, storeFailure);
}
