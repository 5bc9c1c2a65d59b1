/**
 * The options `parLogin()` accepts. Most have an environment variable (read by {@link configFromEnv});
 * explicit options override the environment. Names, variables, defaults, units and ranges come from
 * the option table (option-table.ts); test/config/option-table.test.ts checks this TSDoc against it.
 *
 * @module
 */
import type { KeyObject } from 'node:crypto';
import type { Request } from 'express';
import type { Store } from 'express-session';
import type { JWK } from 'jose';
import type { RedisClientType, RedisClusterType, RedisSentinelType } from 'redis';
import type { ParLoginLogger } from '../observability/log.js';
import type { UserClaims } from './claims.js';

export type { ParLoginLogger };

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

/**
 * Names that {@link ParLoginOptions.frontChannelParams} may copy into the browser's URL beside
 * `client_id` and `request_uri`.
 */
export type FrontChannelParam = 'response_type' | 'scope';

/**
 * The `aud` of a `private_key_jwt` client assertion.
 * - `issuer`: the AS's issuer identifier (RFC 7523bis, FAPI 2.0 §5.3.2.1; the default).
 * - `endpoint`: the URL of the endpoint the assertion is sent to (some servers accept only that).
 */
export type AssertionAudience = 'issuer' | 'endpoint';

/** The tokens of a finished login, as the `afterCallback` hook sees them (RFC 6749 §5.1). */
export interface CallbackTokens {
  /** The access token. */
  readonly accessToken: string;
  /** `Bearer`, or `DPoP` for a DPoP-bound token (RFC 9449 §5). */
  readonly tokenType: string;
  /** The ID token (OIDC Core §3.1.3.3). */
  readonly idToken: string;
  /** The refresh token, when the AS issued one (RFC 6749 §6). */
  readonly refreshToken?: string;
  /** Epoch seconds when the access token expires, when the AS said (`expires_in`). */
  readonly expiresAtSeconds?: number;
  /** The granted scope, when the AS said. */
  readonly scope?: string;
}

/**
 * The `afterCallback` hook: runs at the callback once the login is valid and before the session is
 * written. Return nothing to keep the claims, or the claims the session is to hold (extra ones added,
 * unwanted ones left out; the ID token's protocol claims such as `sub` and `sid` are kept whatever
 * is returned). Throw `new ParLoginError('login_refused', message)` to refuse the login with a 403
 * whose message the user sees; any other error fails the login with `500 after_callback_failed`.
 * Either way no session and no tokens are kept.
 */
export type AfterCallback = (
  req: Request,
  claims: UserClaims,
  tokens: CallbackTokens,
) => UserClaims | undefined | void | Promise<UserClaims | undefined | void>;

/**
 * A node-redis connection the app creates and connects: a client, a Cluster (`createCluster`) or a
 * Sentinel (`createSentinel`).
 */
export type RedisConnection = RedisClientType | RedisClusterType | RedisSentinelType;

/**
 * Options of {@link parLogin}. Each option's unit is in its documentation: durations are seconds unless
 * named `...Ms` (milliseconds).
 */
export interface ParLoginOptions {
  /**
   * The AS's issuer identifier (`OIDC_ISSUER`): https, or http on a loopback host. Required.
   */
  issuer?: string;
  /** The client identifier registered at the AS (`OIDC_CLIENT_ID`). Required. */
  clientId?: string;
  /**
   * How the client authenticates at the PAR and token endpoints (`OIDC_CLIENT_AUTH_METHOD`).
   * @default `private_key_jwt` with a private key and no secret, `tls_client_auth` with a client
   * certificate and neither, else `client_secret_basic`
   */
  clientAuthMethod?: ClientAuthMethod;
  /**
   * The client secret (`OIDC_CLIENT_SECRET`). Required for `client_secret_basic` and `client_secret_post`.
   */
  clientSecret?: string;
  /**
   * The client's private signing key (`OIDC_PRIVATE_KEY`): a private JWK (object or JSON), a PKCS#8 PEM
   * or a `KeyObject`. Required for `private_key_jwt` and `requestObject`.
   */
  privateKey?: string | JWK | KeyObject;
  /**
   * The JWS algorithm of client assertions and request objects (`OIDC_PRIVATE_KEY_ALG`).
   * @default the JWK's `alg`, else from the key: RSA → RS256, RSA-PSS → PS256, P-256 → ES256,
   * P-384 → ES384, P-521 → ES512, Ed25519 → EdDSA
   */
  privateKeyAlg?: string;
  /**
   * The `kid` of client assertions and request objects (`OIDC_PRIVATE_KEY_ID`).
   * @default the JWK's `kid`, else the key's RFC 7638 thumbprint
   */
  privateKeyId?: string;
  /**
   * The `aud` of client assertions (`OIDC_ASSERTION_AUDIENCE`).
   * @default `issuer`
   */
  assertionAudience?: AssertionAudience;
  /**
   * The requested scope (`OIDC_SCOPE`); must contain `openid`.
   * @default `openid profile email`
   */
  scope?: string;
  /**
   * Extra authorization parameters pushed with every login (`OIDC_AUTH_PARAMS`, form-encoded).
   * @default none
   */
  authorizationParams?: Record<string, string>;
  /**
   * The PAR policy (`OIDC_PAR`).
   * @default `required`
   */
  par?: ParPolicy;
  /**
   * The security profile (`OIDC_PROFILE`). `fapi2` applies the FAPI 2.0 Security Profile's client rules
   * and refuses to start with options that break them.
   * @default `none`
   */
  profile?: SecurityProfile;
  /**
   * Where the DPoP key of sender-constrained tokens lives (`OIDC_DPOP`, RFC 9449).
   * @default `off` (`session` under `fapi2` without a client certificate)
   */
  dpop?: DpopMode;
  /**
   * Push a signed request object (JAR) instead of form parameters (`OIDC_REQUEST_OBJECT`, RFC 9101).
   * Needs `privateKey`.
   * @default `false`
   */
  requestObject?: boolean;
  /**
   * The client certificate for mutual TLS (`OIDC_TLS_CLIENT_CERT`): a PEM file path (or PEM text).
   * @default none
   */
  tlsClientCert?: string;
  /**
   * The client certificate's private key (`OIDC_TLS_CLIENT_KEY`): a PEM file path (or PEM text).
   * @default none
   */
  tlsClientKey?: string;
  /**
   * Extra CA certificates the AS's TLS certificate is checked against, besides the system's
   * (`OIDC_TLS_CA`): a PEM file path (or PEM text).
   * @default none (system CAs)
   */
  tlsCa?: string;
  /**
   * Origins besides `baseUrl`'s that per-request redirect URIs may use (`OIDC_REDIRECT_ORIGINS`,
   * comma-separated), for servers that accept unregistered redirect URIs in an authenticated push.
   * @default none
   */
  redirectOrigins?: readonly string[];
  /**
   * Pushed parameters also put in the browser's URL beside `client_id` and `request_uri`, for servers
   * that insist on them (`OIDC_FRONT_CHANNEL_PARAMS`, comma-separated).
   * @default none
   */
  frontChannelParams?: readonly FrontChannelParam[];
  /**
   * The app's external base URL (`APP_BASE_URL`); the redirect URI is `baseUrl + callbackPath`. Required.
   */
  baseUrl?: string;
  /**
   * Where the AS sends the user after logout (`OIDC_POST_LOGOUT_REDIRECT_URI`).
   * @default `baseUrl + '/'`
   */
  postLogoutRedirectUri?: string;
  /**
   * The secret signing the session cookie (`SESSION_SECRET`), at least 32 characters. Required.
   */
  sessionSecret?: string;
  /**
   * Earlier session secrets that still verify cookies (`SESSION_SECRET_PREVIOUS`, comma-separated),
   * so that `sessionSecret` can be rotated without logging everyone out. They also still decrypt
   * tokens sealed under a key derived from them (when `sessionEncryptionKey` is not set). Drop them
   * once `sessionAbsoluteTimeoutSeconds` has passed since the rotation.
   * @default none
   */
  previousSessionSecrets?: readonly string[];
  /**
   * The session cookie's name (`SESSION_COOKIE_NAME`). On https the `__Host-` prefix is added when
   * the name lacks it, so that no sibling subdomain can plant a cookie the middleware reads.
   * @default `__Host-parlogin` on https, `parlogin` on http
   */
  sessionCookieName?: string;
  /**
   * How long a session lives after login, whatever its activity (`SESSION_ABSOLUTE_TIMEOUT`): seconds,
   * from 60 to 31536000.
   * @default `28800` (8 h)
   */
  sessionAbsoluteTimeoutSeconds?: number;
  /**
   * How long without a request a logged-in session lasts (`SESSION_IDLE_TIMEOUT`): seconds, from 60
   * to 31536000.
   * @default `1800` (30 min)
   */
  sessionIdleTimeoutSeconds?: number;
  /**
   * Keys that encrypt tokens in the session store (`SESSION_ENCRYPTION_KEY`, comma-separated): each a
   * base64url 32-byte key or a passphrase (derived with HKDF-SHA256, which does not stretch it: use
   * 32 random bytes). The first encrypts; all decrypt.
   * @default keys derived from `sessionSecret` and `previousSessionSecrets`
   */
  sessionEncryptionKey?: string | readonly string[];
  /**
   * The URL of the Redis that holds sessions (`REDIS_URL`, `redis://` or `rediss://`).
   * @default none (in-memory store)
   */
  redisUrl?: string;
  /**
   * The nodes of a Redis Cluster that holds sessions (`REDIS_CLUSTER_NODES`, comma-separated
   * `redis://` or `rediss://` URLs): some or all of them, the rest are discovered. The first URL's
   * user, password and TLS apply to every node.
   * @default none
   */
  redisClusterNodes?: string | readonly string[];
  /**
   * The Sentinels of the Redis that holds sessions (`REDIS_SENTINELS`, comma-separated `redis://` or
   * `rediss://` URLs). The first URL's user, password and TLS apply to the Sentinels and to the
   * master and replicas they name.
   * @default none
   */
  redisSentinels?: string | readonly string[];
  /**
   * The name of the master the Sentinels watch (`REDIS_SENTINEL_NAME`). Required with `redisSentinels`.
   */
  redisSentinelName?: string;
  /**
   * The prefix of the session keys in Redis (`SESSION_PREFIX`).
   * @default `parlogin:`
   */
  sessionPrefix?: string;
  /**
   * The prefix of the shared state's keys in Redis (`REDIS_STATE_PREFIX`): pending logins, token
   * records, refresh locks and the logout index, apart from the sessions so that the session store's
   * own scans (`all`, `length`, `clear`) see sessions only. It may not start with `sessionPrefix`, nor
   * `sessionPrefix` with it.
   * @default `sessionPrefix` with `-state:` in place of its final `:` (`parlogin-state:`)
   */
  statePrefix?: string;
  /**
   * The deadline of each Redis operation and of connecting (`REDIS_COMMAND_TIMEOUT_MS`): milliseconds,
   * from 50 to 60000. Past it the operation fails, whatever Redis does, and the request answers 503.
   * @default `1000`
   */
  redisCommandTimeoutMs?: number;
  /**
   * A node-redis client, Cluster or Sentinel the app creates and connects, used instead of
   * `redisUrl`, `redisClusterNodes` or `redisSentinels`; the app owns it.
   * @default none
   */
  redisClient?: RedisConnection;
  /**
   * An express-session store of the app's choosing, used when `parLogin()` runs its own session.
   * @default none
   */
  sessionStore?: Store;
  /**
   * The timeout of each back-channel request (`OIDC_HTTP_TIMEOUT_MS`): milliseconds, from 100 to 120000.
   * @default `5000`
   */
  httpTimeoutMs?: number;
  /**
   * How long a user has to finish a login after its `request_uri` expires (`OIDC_LOGIN_GRACE`):
   * seconds, from 0 to 86400. A pending login (its entry in the shared state and its own cookie in
   * the browser) lives for the PAR `expires_in` plus this.
   * @default `240`
   */
  loginGraceSeconds?: number;
  /**
   * The clock skew tolerated when checking the times of ID tokens (`OIDC_CLOCK_TOLERANCE`): seconds,
   * from 0 to 600.
   * @default `30`
   */
  clockToleranceSeconds?: number;
  /**
   * How long before its expiry an access token is refreshed (`OIDC_REFRESH_SKEW`): seconds, from 0 to
   * 3600.
   * @default `30`
   */
  refreshSkewSeconds?: number;
  /**
   * Fetch the userinfo endpoint's claims at login and merge them over the ID token's
   * (`OIDC_FETCH_USERINFO`); its `sub` must be the ID token's.
   * @default `false`
   */
  fetchUserinfo?: boolean;
  /**
   * Start a fresh login once when an anonymous browser brings a stale callback: a code whose `state`
   * is unknown or expired (a bookmarked or stale sign-in page, a lost cookie), instead of showing the
   * error (`OIDC_RESTART_STALE_LOGINS`). The fresh login's state is marked, so it is never restarted
   * again.
   * @default `true`
   */
  restartStaleLogins?: boolean;
  /**
   * Guard every route after `parLogin()` as `requireLogin()` does (`OIDC_LOGIN_REQUIRED`): anonymous
   * HTML navigations go to the login, other anonymous requests get `401 unauthenticated`. The
   * middleware's own routes stay open. Routes that must stay public are mounted before
   * `parLogin()` (they then have no `req.auth`); with it off, guard routes one by one.
   * @default `false`
   */
  loginRequired?: boolean;
  /**
   * Refuse a login whose ID token's `acr` is not one of those requested (`OIDC_CHECK_ACR`): when a
   * login asked for `acr_values` (the login's `acrValues` or the configured `authorizationParams`),
   * or for an essential `acr` claim with `value`/`values` in its `claims` request, the ID token must
   * carry one of them, else the login fails with `acr_not_satisfied` (403) and no session starts. An
   * essential `acr` claim without values requires an `acr` of any value. Turn it off only for an AS
   * that ignores `acr_values` while the app checks `req.auth.claims.acr` itself.
   * @see https://openid.net/specs/openid-connect-core-1_0.html#IDTokenValidation (item 12)
   * @default `true`
   */
  checkAcr?: boolean;
  /**
   * Try a silent login once per browser (`OIDC_ATTEMPT_SILENT_LOGIN`): the first HTML navigation of an
   * anonymous browser to a route after `parLogin()` starts a login with `prompt=none`, so a user
   * still signed in at the AS comes back logged in without seeing it. When the AS answers
   * `login_required`, `consent_required`, `interaction_required` or `account_selection_required`
   * (OIDC Core §3.1.2.6), or the attempt cannot start, the browser goes on to the page it asked for,
   * anonymous, and is not tried again until it closes (a session cookie marks it; logout sets it too).
   * @see https://openid.net/specs/openid-connect-core-1_0.html#AuthError
   * @default `false`
   */
  attemptSilentLogin?: boolean;
  /**
   * Runs when a login is valid, before its session is written: may add claims to the session's user,
   * provision an account, or refuse the login (see {@link AfterCallback}).
   * @default none
   */
  afterCallback?: AfterCallback;
  /**
   * How many logins one browser may have pending at once (tabs), from 1 to 50. Each is kept in the
   * shared state and bound to the browser by a cookie of its own; beyond this, the oldest is dropped,
   * cookie and entry.
   * @default `5`
   */
  maxPendingLogins?: number;
  /**
   * How many logins one instance starts per minute in all (`OIDC_MAX_LOGIN_STARTS_PER_MINUTE`), from
   * 0 to 10000000; 0 turns the cap off. Each start is a push to the AS and a stored pending login:
   * beyond this rate (a sliding minute), a start answers `429 too_many_logins` with `Retry-After`.
   * Size it at the client's PAR rate limit at the AS divided by the number of instances.
   * @default `12000`
   */
  maxLoginStartsPerMinute?: number;
  /**
   * How many logins one instance starts per minute for one client IP
   * (`OIDC_MAX_LOGIN_STARTS_PER_IP_PER_MINUTE`, IPv6 by /64), from 0 to 10000000; 0 turns the cap
   * off. Beyond it, `429 too_many_logins` with `Retry-After`. The IP is Express's `req.ip`: behind a
   * proxy set `trust proxy`, or every user shares the proxy's address. Size it at the peak logins
   * per minute expected from one shared egress (a company's NAT).
   * @default `300`
   */
  maxLoginStartsPerIpPerMinute?: number;
  /**
   * The largest back-channel response body accepted: bytes, from 1024 to 16777216.
   * @default `262144`
   */
  maxResponseBytes?: number;
  /**
   * The shortest time between two JWKS refetches triggered by an unknown `kid`: seconds, from 0 to
   * 86400.
   * @default `30`
   */
  jwksCooldownSeconds?: number;
  /**
   * The path of the route that starts a login.
   * @default `/login`
   */
  loginPath?: string;
  /**
   * The path of the route the AS redirects back to.
   * @default `/callback`
   */
  callbackPath?: string;
  /**
   * The path of the logout route.
   * @default `/logout`
   */
  logoutPath?: string;
  /**
   * The path of the session endpoint for a front end.
   * @default `/me`
   */
  mePath?: string;
  /**
   * The path where the AS posts logout tokens (OpenID Connect Back-Channel Logout 1.0); register
   * `baseUrl` + this path as the client's `backchannel_logout_uri`.
   * @default `/backchannel-logout`
   */
  backchannelLogoutPath?: string;
  /**
   * Whether the mounted routes render their errors themselves: `true` renders an HTML page or JSON,
   * `false` passes them to the app's error handler with `next(err)`.
   * @default `true`
   */
  renderErrors?: boolean;
  /**
   * Where failure records go.
   * @default one JSON line per failure on stderr
   */
  logger?: ParLoginLogger;
  /**
   * Trace every step of logins, refreshes and logouts, secrets redacted (`DEBUG`, `NODE_DEBUG`):
   * `true` writes lines to stderr, a function receives each record. The environment turns it on with
   * `DEBUG=express-par-login*` or `NODE_DEBUG=express-par-login`.
   * @default `false`
   */
  debug?: boolean | ((record: Record<string, unknown>) => void);
}
