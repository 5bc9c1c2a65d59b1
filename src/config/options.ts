/**
 * The options `parLogin()` accepts. Every option has an environment variable
 * (read by {@link configFromEnv}); explicit options override the environment.
 *
 * @module
 */
import type { KeyObject } from 'node:crypto';
import type { Store } from 'express-session';
import type { JWK } from 'jose';
import type { RedisClientType } from 'redis';

/** How the client authenticates at the PAR and token endpoints (RFC 6749 §2.3, OIDC Core §9). */
export type ClientAuthMethod =
  | 'client_secret_basic'
  | 'client_secret_post'
  | 'private_key_jwt'
  /** RFC 8705 §2.1: a certificate issued by a CA the AS trusts. */
  | 'tls_client_auth'
  /** RFC 8705 §2.2: a self-signed certificate registered with the client (in its `jwks`). */
  | 'self_signed_tls_client_auth';

/**
 * PAR policy (RFC 9126 §5).
 * - `required`: log in only with PAR; an AS without a PAR endpoint fails with `no_par_endpoint`.
 * - `auto`: use PAR when the AS offers it; fall back to a classic authorization request only when
 *   the AS has no PAR endpoint and does not require PAR.
 */
export type ParPolicy = 'required' | 'auto';

/**
 * Where the DPoP key lives (RFC 9449).
 * - `off`: no DPoP; tokens are Bearer (or certificate-bound with mTLS).
 * - `session`: a new key per login, kept encrypted in the server-side session (works across instances).
 * - `instance`: one key per `parLogin()` instance, in memory (lost on restart: logins then need to start again).
 */
export type DpopMode = 'off' | 'session' | 'instance';

/** A security profile that narrows the options (`none`, or the FAPI 2.0 Security Profile). */
export type SecurityProfile = 'none' | 'fapi2';

/** Names that {@link ParLoginOptions.frontChannelParams} may copy into the browser's URL beside `client_id` and `request_uri`. */
export type FrontChannelParam = 'response_type' | 'scope';

/**
 * The `aud` of a `private_key_jwt` client assertion.
 * - `issuer`: the AS's issuer identifier (RFC 7523bis, FAPI 2.0 §5.3.2.1; the default).
 * - `endpoint`: the URL of the endpoint the assertion is sent to (some servers accept only that).
 */
export type AssertionAudience = 'issuer' | 'endpoint';

/** A structured logger. Each call receives one record; it must never throw. */
export interface ParLoginLogger {
  /** Failures caused by the browser (4xx). */
  warn(record: Record<string, unknown>): void;
  /** Failures caused by the AS, the store or the configuration (5xx). */
  error(record: Record<string, unknown>): void;
}

/** Options of {@link parLogin}. Units are in the names' documentation; durations are seconds unless named `...Ms`. */
export interface ParLoginOptions {
  /** The AS's issuer identifier (`OIDC_ISSUER`). https, or http on a loopback host. */
  issuer?: string;
  /** The client identifier registered at the AS (`OIDC_CLIENT_ID`). */
  clientId?: string;
  /**
   * Client authentication (`OIDC_CLIENT_AUTH_METHOD`).
   * @default `private_key_jwt` when only a private key is given, else `client_secret_basic`
   */
  clientAuthMethod?: ClientAuthMethod;
  /** The client secret for `client_secret_basic` and `client_secret_post` (`OIDC_CLIENT_SECRET`). */
  clientSecret?: string;
  /** The signing key for `private_key_jwt` (`OIDC_PRIVATE_KEY`): a private JWK (object or JSON) or a PKCS#8 PEM. */
  privateKey?: string | JWK | KeyObject;
  /** JWS algorithm of the client assertion (`OIDC_PRIVATE_KEY_ALG`). @default the key's `alg`, else derived from the key type */
  privateKeyAlg?: string;
  /** `kid` of the client assertion (`OIDC_PRIVATE_KEY_ID`). @default the JWK's `kid`, else its RFC 7638 thumbprint */
  privateKeyId?: string;
  /** Audience of the client assertion (`OIDC_ASSERTION_AUDIENCE`). @default `issuer` */
  assertionAudience?: AssertionAudience;
  /** Requested scope (`OIDC_SCOPE`); must contain `openid`. @default `openid profile email` */
  scope?: string;
  /** Extra authorization parameters pushed with every login (`OIDC_AUTH_PARAMS`, form-encoded). */
  authorizationParams?: Record<string, string>;
  /** PAR policy (`OIDC_PAR`). @default `required` */
  par?: ParPolicy;
  /**
   * Security profile (`OIDC_PROFILE`). `fapi2` applies the FAPI 2.0 Security Profile's client rules and
   * refuses to start with options that break them. @default `none`
   */
  profile?: SecurityProfile;
  /** DPoP sender-constrained tokens (`OIDC_DPOP`, RFC 9449). @default `off` (`session` with `profile: 'fapi2'` without mTLS) */
  dpop?: DpopMode;
  /** Push a signed request object (JAR, RFC 9101) instead of form parameters (`OIDC_REQUEST_OBJECT`). Needs `privateKey`. @default false */
  requestObject?: boolean;
  /** Client certificate for mutual TLS (`OIDC_TLS_CLIENT_CERT`): a PEM file path (or PEM text). */
  tlsClientCert?: string;
  /** Private key of the client certificate (`OIDC_TLS_CLIENT_KEY`): a PEM file path (or PEM text). */
  tlsClientKey?: string;
  /** CA certificates the AS's TLS certificate is checked against, besides the system's (`OIDC_TLS_CA`): a PEM file path (or PEM text). */
  tlsCa?: string;
  /**
   * Origins (besides `baseUrl`'s) that per-request redirect URIs may use (`OIDC_REDIRECT_ORIGINS`, comma-separated),
   * for servers that accept unregistered redirect URIs in an authenticated push. @default none
   */
  redirectOrigins?: readonly string[];
  /**
   * Pushed parameters also put in the browser's URL beside `client_id` and `request_uri`, for servers
   * that insist on them (`OIDC_FRONT_CHANNEL_PARAMS`, comma-separated). @default none
   */
  frontChannelParams?: readonly FrontChannelParam[];
  /** The app's external base URL (`APP_BASE_URL`); the redirect URI is `baseUrl + callbackPath`. */
  baseUrl?: string;
  /** Where the AS sends the user after logout (`OIDC_POST_LOGOUT_REDIRECT_URI`). @default `baseUrl + '/'` */
  postLogoutRedirectUri?: string;
  /** Secret signing the session cookie (`SESSION_SECRET`), at least 32 characters. */
  sessionSecret?: string;
  /**
   * Earlier session secrets that still verify cookies (`SESSION_SECRET_PREVIOUS`, comma-separated),
   * so that `sessionSecret` can be rotated without logging everyone out. They also still decrypt
   * tokens sealed under a key derived from them (when `sessionEncryptionKey` is not set). Drop them
   * once `sessionAbsoluteTimeout` has passed since the rotation.
   * @default none
   */
  previousSessionSecrets?: readonly string[];
  /** Session cookie name (`SESSION_COOKIE_NAME`). @default `__Host-parlogin` on https, `parlogin` on http */
  sessionCookieName?: string;
  /** Absolute session lifetime in seconds, counted from login (`SESSION_ABSOLUTE_TIMEOUT`). @default 28800 (8 h) */
  sessionAbsoluteTimeout?: number;
  /** Seconds of inactivity after which a logged-in session ends (`SESSION_IDLE_TIMEOUT`). @default 1800 (30 min) */
  sessionIdleTimeout?: number;
  /**
   * Keys that encrypt tokens in the session store (`SESSION_ENCRYPTION_KEY`, comma-separated): each a
   * base64url 32-byte key or a passphrase (stretched with HKDF). The first encrypts; all decrypt.
   * @default one key derived from `sessionSecret`
   */
  sessionEncryptionKey?: string | readonly string[];
  /** Redis URL for sessions (`REDIS_URL`, `redis://` or `rediss://`). @default none: an in-memory store */
  redisUrl?: string;
  /** A connected node-redis client (Sentinel, Cluster, custom TLS): used instead of `redisUrl`; the app owns it. */
  redisClient?: RedisClientType;
  /** Prefix of session keys in Redis (`SESSION_PREFIX`). @default `parlogin:` */
  sessionPrefix?: string;
  /** Timeout of each Redis command in milliseconds (`REDIS_COMMAND_TIMEOUT_MS`). @default 1000 */
  redisCommandTimeoutMs?: number;
  /** An express-session store of the app's choosing, used when `parLogin()` mounts express-session itself. */
  sessionStore?: Store;
  /** Timeout of each back-channel request in milliseconds (`OIDC_HTTP_TIMEOUT_MS`). @default 5000 */
  httpTimeoutMs?: number;
  /**
   * Seconds a user has to finish a login after its `request_uri` expires (`OIDC_LOGIN_GRACE`): a
   * pending login, and an anonymous session holding only pending logins, live for the PAR
   * `expires_in` plus this. @default 240
   */
  loginGrace?: number;
  /** Pending logins kept per session; the oldest is dropped beyond it. @default 5 */
  maxPendingLogins?: number;
  /** Clock skew tolerated when checking ID token times, in seconds (`OIDC_CLOCK_TOLERANCE`). @default 30 */
  clockTolerance?: number;
  /** Largest back-channel response body accepted, in bytes. @default 262144 */
  maxResponseBytes?: number;
  /** Minimum time between two JWKS refetches triggered by an unknown `kid`, in seconds. @default 30 */
  jwksCooldown?: number;
  /** @default `/login` */
  loginPath?: string;
  /** @default `/callback` */
  callbackPath?: string;
  /** @default `/logout` */
  logoutPath?: string;
  /** @default `/me` */
  mePath?: string;
  /**
   * Where the AS POSTs logout tokens (OpenID Connect Back-Channel Logout 1.0); register
   * `APP_BASE_URL` + this path as the client's `backchannel_logout_uri`. @default `/backchannel-logout`
   */
  backchannelLogoutPath?: string;
  /**
   * Refresh the access token when it expires within this many seconds (`OIDC_REFRESH_SKEW`).
   * @default 30
   */
  refreshSkew?: number;
  /**
   * Fetch the userinfo endpoint's claims at login and merge them over the ID token's
   * (`OIDC_FETCH_USERINFO=true`); its `sub` must be the ID token's. @default false
   */
  fetchUserinfo?: boolean;
  /**
   * When an anonymous browser navigates to the callback with a code whose `state` is unknown or
   * expired (a bookmarked or stale sign-in page, a lost cookie), start a fresh login once instead of
   * showing the error (`OIDC_RESTART_STALE_LOGINS`). The fresh login's state is marked, so it is never
   * restarted again. @default true
   */
  restartStaleLogins?: boolean;
  /**
   * `true` renders errors of the mounted routes itself (an HTML page or JSON);
   * `false` passes them to the app's error handler with `next(err)`.
   * @default true
   */
  renderErrors?: boolean;
  /** Where failure records go. @default one JSON line per failure on stderr */
  logger?: ParLoginLogger;
  /**
   * Trace every step of logins, refreshes and logouts (secrets redacted): `true` writes lines to
   * stderr, a function receives each record. Set from the environment by
   * `DEBUG=express-par-login*` or `NODE_DEBUG=express-par-login`. @default false
   */
  debug?: boolean | ((record: Record<string, unknown>) => void);
}
