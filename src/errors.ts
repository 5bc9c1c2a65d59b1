/**
 * Errors of express-par-login. Two families, as in panva/oauth4webapi:
 *
 * - {@link ConfigError}: the configuration is wrong. Thrown once, at start-up, listing every problem.
 * - {@link ParLoginError}: a request failed. It carries the http-errors contract (`status`,
 *   `statusCode`, `expose`) so an Express error handler can render it, and a stable `code` to
 *   `switch` on. The original failure, if any, is kept as `cause`.
 *
 * @module
 */

/** Every request-time error code, with the HTTP status it answers with. Match on `err.code`. */
export const ERROR_CODES = Object.freeze({
  /** The callback came without `state`. */
  state_missing: 400,
  /** No pending login has this `state` in this browser's session. */
  state_unknown: 400,
  /** The pending login for this `state` was already completed. */
  state_used: 400,
  /** The pending login for this `state` has outlived its request_uri plus `loginGraceSeconds`. */
  state_expired: 400,
  /** The AS advertises RFC 9207 but the callback has no `iss`. */
  iss_missing: 400,
  /** The callback's `iss` is not the configured issuer (a mix-up attack, or a misrouted response). */
  iss_mismatch: 400,
  /** The AS answered the authorization request with an error (e.g. `access_denied`). */
  authorization_error: 400,
  /** The callback has neither `code` nor `error`. */
  code_missing: 400,
  /** The request is not acceptable (e.g. a query parameter repeated). */
  invalid_request: 400,
  /** A state-changing request came from another site (POST /logout without a same-origin proof). */
  csrf_rejected: 403,
  /** The request needs a login. */
  unauthenticated: 401,
  /** The user is logged in but does not qualify for the route (`requireLogin({ claims, check })`). */
  forbidden: 403,
  /**
   * The login's ID token asserts an `acr` that is not one of those requested (`acr_values`, or the
   * values of an essential `acr` claim): the authentication did not reach the requested level.
   */
  acr_not_satisfied: 403,
  /** The app's `afterCallback` hook refused the login (its message is shown); no session started. */
  login_refused: 403,
  /** Too many login starts in the last minute, from this client IP or in all: a flood is shed. */
  too_many_logins: 429,
  /**
   * The session ended at the AS (refresh refused: `invalid_grant`, back-channel logout) or its access
   * token expired without a refresh token.
   */
  login_required: 401,
  /** A back-channel logout request without a valid logout token. */
  logout_token_invalid: 400,
  /** Discovery failed: unreachable, not JSON, or inconsistent with the configured issuer. */
  discovery_failed: 502,
  /** `par: 'required'` and the AS's metadata has no `pushed_authorization_request_endpoint` (RFC 9126 §5). */
  no_par_endpoint: 502,
  /**
   * The push failed: the PAR endpoint refused the request or answered something other than 201 with a
   * usable request_uri (RFC 9126 §2.2, §2.3).
   */
  par_error: 502,
  /**
   * The AS demanded PAR where it was not used: it sets `require_pushed_authorization_requests` but
   * publishes no PAR endpoint, or it refused a classic (`par: 'auto'`) authorization request for want
   * of PAR (RFC 9126 §5, §6).
   */
  par_required: 502,
  /** The token endpoint refused the code or answered something unusable. */
  token_error: 502,
  /** The ID token failed validation (signature, alg, iss, aud, azp, exp, iat, nonce, sub). */
  id_token_invalid: 502,
  /** The JWKS could not be fetched or is not a JWK Set. */
  jwks_error: 502,
  /** The AS could not be reached (connection refused, reset, DNS). */
  as_unreachable: 502,
  /** The AS's response broke the protocol (too large, not JSON, a redirect). */
  as_bad_response: 502,
  /** The userinfo endpoint failed or answered claims of another user. */
  userinfo_error: 502,
  /**
   * `apiProxy()` refused the request's path: an encoded separator, dot or percent, `;`, `\\` or a
   * dot segment, which a server that decodes before it resolves could read as a path outside the API.
   */
  api_path_rejected: 400,
  /** `apiProxy()` does not forward this method (its `methods`; TRACE and CONNECT never). */
  method_not_allowed: 405,
  /** The API behind `apiProxy()` could not be reached or broke off. */
  api_unreachable: 502,
  /** The API behind `apiProxy()` did not answer within its timeout. */
  api_timeout: 504,
  /** The AS did not answer within `httpTimeoutMs`. */
  as_timeout: 504,
  /** The session store failed to load or save the session. */
  session_store_unavailable: 503,
  /**
   * The app's `afterCallback` hook threw (anything but a `ParLoginError`) or returned something other
   * than claims; no session started.
   */
  after_callback_failed: 500,
  /** `requireLogin()` or `req.auth` used without `parLogin()` mounted before it. */
  not_mounted: 500,
});

/** A request-time error code. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** Details a {@link ParLoginError} may carry. */
export interface ParLoginErrorDetails {
  /** The AS's `error` value, when the AS sent one. */
  asError?: string;
  /** The AS's `error_description`, when the AS sent one. */
  asErrorDescription?: string;
  /** What the user or operator can do about it, shown on the error page. */
  hint?: string;
  /** The underlying failure. */
  cause?: unknown;
}

/**
 * A request failed. `status`/`statusCode` is the HTTP status, `expose` says whether the message
 * may be shown to the browser (true for 4xx; 5xx messages are replaced by a generic text).
 */
export class ParLoginError extends Error {
  override readonly name = 'ParLoginError';
  /** The stable error code. */
  readonly code: ErrorCode;
  /** The HTTP status. */
  readonly status: number;
  /** Same as `status`, for handlers that read `statusCode`. */
  readonly statusCode: number;
  /** Whether `message` is safe to show the browser. */
  readonly expose: boolean;
  /** The AS's `error`, if any. */
  readonly asError?: string;
  /** The AS's `error_description`, if any. */
  readonly asErrorDescription?: string;
  /** A remedy, shown with the message. */
  readonly hint?: string;

  constructor(code: ErrorCode, message: string, details: ParLoginErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.status = this.statusCode = ERROR_CODES[code];
    this.expose = this.status < 500;
    if (details.asError !== undefined) this.asError = details.asError;
    if (details.asErrorDescription !== undefined) this.asErrorDescription = details.asErrorDescription;
    if (details.hint !== undefined) this.hint = details.hint;
  }
}

/**
 * The configuration is invalid. `problems` lists every problem found, each naming the option
 * and its environment variable. Thrown by {@link parLogin} and {@link configFromEnv} at start-up.
 */
export class ConfigError extends TypeError {
  override readonly name = 'ConfigError';
  /** Always `ERR_INVALID_CONFIG`. */
  readonly code = 'ERR_INVALID_CONFIG';
  /** One sentence per problem. */
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(`express-par-login: invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.problems = Object.freeze([...problems]);
  }
}

/** True when `err` is a {@link ParLoginError} (also across package copies). */
export function isParLoginError(err: unknown): err is ParLoginError {
  return (
    err instanceof ParLoginError || (err instanceof Error && err.name === 'ParLoginError' && 'code' in err)
  );
}

/** A {@link TypeError} with the Node.js-style code that says which kind of argument was wrong. */
export type InvalidArgumentError = TypeError & {
  readonly code: 'ERR_INVALID_ARG_VALUE' | 'ERR_INVALID_ARG_TYPE';
};

/**
 * A wrong argument to one of this package's functions (a programming error, thrown synchronously):
 * a `TypeError` with code `ERR_INVALID_ARG_VALUE` (or `ERR_INVALID_ARG_TYPE`), as Node.js and
 * oauth4webapi do. The one way this package builds such an error.
 */
export function invalidArgument(
  message: string,
  code: InvalidArgumentError['code'] = 'ERR_INVALID_ARG_VALUE',
): InvalidArgumentError {
  return Object.assign(new TypeError(message), { code });
}

/** What the session store was doing when it failed. */
export type StoreOperation = 'load' | 'save' | 'touch' | 'regenerate' | 'destroy' | 'read' | 'write';

/**
 * The session store (or the shared state beside it) failed: `session_store_unavailable` (503),
 * with one message per operation and the failure kept as `cause`. The one way this package
 * builds this error.
 */
export function storeUnavailable(operation: StoreOperation, cause?: unknown): ParLoginError {
  const target = operation === 'read' || operation === 'write' ? 'the shared login state' : 'the session';
  return new ParLoginError(
    'session_store_unavailable',
    `The session store failed to ${operation} ${target}.`,
    {
      ...(cause === undefined ? {} : { cause }),
    },
  );
}
