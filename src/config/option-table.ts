/**
 * The option table: one row per option of {@link ParLoginOptions}, the single source of its
 * environment variable, its kind (how the environment's text is parsed and which generic check
 * applies), what an unset option means (required, a fixed default, or a derived one), its unit and
 * range, and a one-line description.
 *
 * Read by env.ts (`ENV_NAMES`, `configFromEnv`) and by resolve-config.ts (fixed defaults, integer
 * ranges, choices). The options' TSDoc in options.ts and the README's configuration table are
 * written by hand and checked against this table by test/config/option-table.test.ts: a `@default`,
 * a variable, a default, a unit or a range that disagrees fails that test.
 *
 * @module
 */
import type {
  AssertionAudience,
  ClientAuthMethod,
  DpopMode,
  FrontChannelParam,
  ParLoginOptions,
  ParPolicy,
  SecurityProfile,
} from './options.js';

/** The unit of a number, stated in its TSDoc and README row. */
export type OptionUnit = 'seconds' | 'milliseconds' | 'bytes';

/** How an option's environment variable is parsed, and which generic check `resolveConfig` applies. */
export type OptionKind =
  /** Text, trimmed. */
  | { readonly type: 'string' }
  /** Text read from the environment exactly as is (spaces included), and never quoted in a problem. */
  | { readonly type: 'secret' }
  /** An absolute URL, trimmed. */
  | { readonly type: 'url' }
  /** A PEM file path (or PEM text), trimmed; read by tls-material.ts. */
  | { readonly type: 'pem' }
  /** A route path (no environment variable). */
  | { readonly type: 'path' }
  /** Form-encoded parameters (`a=1&b=2`), an object as an option. */
  | { readonly type: 'params' }
  /** An object the app passes (no environment variable). */
  | { readonly type: 'object' }
  /** `true`/`false`, `1`/`0`, `yes`/`no`; anything else is passed on for the check to report. */
  | { readonly type: 'boolean' }
  /** Tracing: on when the variable (or `alsoEnv`) names this package (observability/debug.ts). */
  | { readonly type: 'debug'; readonly alsoEnv: string }
  /** Digits; anything else is passed on for the range check to report. */
  | { readonly type: 'integer'; readonly min: number; readonly max: number; readonly unit?: OptionUnit }
  /** One of `values`. */
  | { readonly type: 'enum'; readonly values: readonly string[] }
  /** Comma-separated items, trimmed, empty ones dropped; when `values` is set, each must be one of them. */
  | { readonly type: 'list'; readonly values?: readonly string[] };

/** What an unset option means. */
export type OptionUnset<V> =
  /** It must be set: always (`true`), or under the condition given (`for …`). */
  | { readonly required: true | string }
  /** This value, exactly (the resolved configuration holds it); `note` glosses it in the docs, e.g. `8 h`. */
  | { readonly default: V & (string | number | boolean); readonly note?: string }
  /** A default that is not one fixed value, described (Markdown) as the docs give it. */
  | { readonly defaultText: string };

/** One row of the table. */
export type OptionSpec<V = unknown> = {
  /** The environment variable, when the option has one. */
  readonly env?: string;
  /** A one-line description: the TSDoc of the option begins with it. */
  readonly doc: string;
} & OptionKind &
  OptionUnset<V>;

/** The table's type: a row for every option, and a fixed default of the option's own type. */
export type OptionTable = {
  readonly [K in keyof ParLoginOptions]-?: OptionSpec<NonNullable<ParLoginOptions[K]>>;
};

/** The members of a string union, in the order given; one missing or unknown does not compile. */
const members = <T extends string>(all: Record<T, true>): readonly T[] =>
  Object.freeze(Object.keys(all) as T[]);

/** Every option, in the order of the README's configuration table. */
export const OPTION_TABLE = Object.freeze({
  issuer: { env: 'OIDC_ISSUER', type: 'url', required: true, doc: "The AS's issuer identifier" },
  clientId: {
    env: 'OIDC_CLIENT_ID',
    type: 'string',
    required: true,
    doc: 'The client identifier registered at the AS',
  },
  clientAuthMethod: {
    env: 'OIDC_CLIENT_AUTH_METHOD',
    type: 'enum',
    values: members<ClientAuthMethod>({
      client_secret_basic: true,
      client_secret_post: true,
      private_key_jwt: true,
      tls_client_auth: true,
      self_signed_tls_client_auth: true,
    }),
    defaultText:
      '`private_key_jwt` with a private key and no secret, `tls_client_auth` with a client certificate and ' +
      'neither, else `client_secret_basic`',
    doc: 'How the client authenticates at the PAR and token endpoints',
  },
  clientSecret: {
    env: 'OIDC_CLIENT_SECRET',
    type: 'secret',
    required: 'for `client_secret_basic` and `client_secret_post`',
    doc: 'The client secret',
  },
  privateKey: {
    env: 'OIDC_PRIVATE_KEY',
    type: 'secret',
    required: 'for `private_key_jwt` and `requestObject`',
    doc: "The client's private signing key",
  },
  privateKeyAlg: {
    env: 'OIDC_PRIVATE_KEY_ALG',
    type: 'string',
    defaultText:
      "the JWK's `alg`, else from the key: RSA → RS256, RSA-PSS → PS256, P-256 → ES256, P-384 → ES384, " +
      'P-521 → ES512, Ed25519 → EdDSA',
    doc: 'The JWS algorithm of client assertions and request objects',
  },
  privateKeyId: {
    env: 'OIDC_PRIVATE_KEY_ID',
    type: 'string',
    defaultText: "the JWK's `kid`, else the key's RFC 7638 thumbprint",
    doc: 'The `kid` of client assertions and request objects',
  },
  assertionAudience: {
    env: 'OIDC_ASSERTION_AUDIENCE',
    type: 'enum',
    values: members<AssertionAudience>({ issuer: true, endpoint: true }),
    default: 'issuer',
    doc: 'The `aud` of client assertions',
  },
  scope: { env: 'OIDC_SCOPE', type: 'string', default: 'openid profile email', doc: 'The requested scope' },
  authorizationParams: {
    env: 'OIDC_AUTH_PARAMS',
    type: 'params',
    defaultText: 'none',
    doc: 'Extra authorization parameters pushed with every login',
  },
  par: {
    env: 'OIDC_PAR',
    type: 'enum',
    values: members<ParPolicy>({ required: true, auto: true }),
    default: 'required',
    doc: 'The PAR policy',
  },
  profile: {
    env: 'OIDC_PROFILE',
    type: 'enum',
    values: members<SecurityProfile>({ none: true, fapi2: true }),
    default: 'none',
    doc: 'The security profile',
  },
  dpop: {
    env: 'OIDC_DPOP',
    type: 'enum',
    values: members<DpopMode>({ off: true, session: true, instance: true }),
    defaultText: '`off` (`session` under `fapi2` without a client certificate)',
    doc: 'Where the DPoP key of sender-constrained tokens lives',
  },
  requestObject: {
    env: 'OIDC_REQUEST_OBJECT',
    type: 'boolean',
    default: false,
    doc: 'Push a signed request object (JAR) instead of form parameters',
  },
  tlsClientCert: {
    env: 'OIDC_TLS_CLIENT_CERT',
    type: 'pem',
    defaultText: 'none',
    doc: 'The client certificate for mutual TLS',
  },
  tlsClientKey: {
    env: 'OIDC_TLS_CLIENT_KEY',
    type: 'pem',
    defaultText: 'none',
    doc: "The client certificate's private key",
  },
  tlsCa: {
    env: 'OIDC_TLS_CA',
    type: 'pem',
    defaultText: 'none (system CAs)',
    doc: "Extra CA certificates the AS's TLS certificate is checked against",
  },
  redirectOrigins: {
    env: 'OIDC_REDIRECT_ORIGINS',
    type: 'list',
    defaultText: 'none',
    doc: "Origins besides `baseUrl`'s that per-request redirect URIs may use",
  },
  frontChannelParams: {
    env: 'OIDC_FRONT_CHANNEL_PARAMS',
    type: 'list',
    values: members<FrontChannelParam>({ response_type: true, scope: true }),
    defaultText: 'none',
    doc: "Pushed parameters also put in the browser's URL",
  },
  baseUrl: { env: 'APP_BASE_URL', type: 'url', required: true, doc: "The app's external base URL" },
  postLogoutRedirectUri: {
    env: 'OIDC_POST_LOGOUT_REDIRECT_URI',
    type: 'url',
    defaultText: "`baseUrl + '/'`",
    doc: 'Where the AS sends the user after logout',
  },
  sessionSecret: {
    env: 'SESSION_SECRET',
    type: 'secret',
    required: true,
    doc: 'The secret signing the session cookie',
  },
  previousSessionSecrets: {
    env: 'SESSION_SECRET_PREVIOUS',
    type: 'list',
    defaultText: 'none',
    doc: 'Earlier session secrets that still verify cookies',
  },
  sessionCookieName: {
    env: 'SESSION_COOKIE_NAME',
    type: 'string',
    defaultText: '`__Host-parlogin` on https, `parlogin` on http',
    doc: "The session cookie's name",
  },
  sessionAbsoluteTimeoutSeconds: {
    env: 'SESSION_ABSOLUTE_TIMEOUT',
    type: 'integer',
    min: 60,
    max: 31_536_000,
    unit: 'seconds',
    default: 28_800,
    note: '8 h',
    doc: 'How long a session lives after login, whatever its activity',
  },
  sessionIdleTimeoutSeconds: {
    env: 'SESSION_IDLE_TIMEOUT',
    type: 'integer',
    min: 60,
    max: 31_536_000,
    unit: 'seconds',
    default: 1_800,
    note: '30 min',
    doc: 'How long without a request a logged-in session lasts',
  },
  sessionEncryptionKey: {
    env: 'SESSION_ENCRYPTION_KEY',
    type: 'list',
    defaultText: 'keys derived from `sessionSecret` and `previousSessionSecrets`',
    doc: 'Keys that encrypt tokens in the session store',
  },
  redisUrl: {
    env: 'REDIS_URL',
    type: 'url',
    defaultText: 'none (in-memory store)',
    doc: 'The URL of the Redis that holds sessions',
  },
  redisClusterNodes: {
    env: 'REDIS_CLUSTER_NODES',
    type: 'list',
    defaultText: 'none',
    doc: 'The nodes of a Redis Cluster that holds sessions',
  },
  redisSentinels: {
    env: 'REDIS_SENTINELS',
    type: 'list',
    defaultText: 'none',
    doc: 'The Sentinels of the Redis that holds sessions',
  },
  redisSentinelName: {
    env: 'REDIS_SENTINEL_NAME',
    type: 'string',
    required: 'with `redisSentinels`',
    doc: 'The name of the master the Sentinels watch',
  },
  sessionPrefix: {
    env: 'SESSION_PREFIX',
    type: 'string',
    default: 'parlogin:',
    doc: 'The prefix of the session keys in Redis',
  },
  statePrefix: {
    env: 'REDIS_STATE_PREFIX',
    type: 'string',
    defaultText: '`sessionPrefix` with `-state:` in place of its final `:` (`parlogin-state:`)',
    doc: "The prefix of the shared state's keys in Redis",
  },
  redisCommandTimeoutMs: {
    env: 'REDIS_COMMAND_TIMEOUT_MS',
    type: 'integer',
    min: 50,
    max: 60_000,
    unit: 'milliseconds',
    default: 1_000,
    doc: 'The deadline of each Redis operation and of connecting',
  },
  redisClient: {
    type: 'object',
    defaultText: 'none',
    doc: 'A node-redis client, Cluster or Sentinel the app creates and connects',
  },
  sessionStore: {
    type: 'object',
    defaultText: 'none',
    doc: "An express-session store of the app's choosing",
  },
  httpTimeoutMs: {
    env: 'OIDC_HTTP_TIMEOUT_MS',
    type: 'integer',
    min: 100,
    max: 120_000,
    unit: 'milliseconds',
    default: 5_000,
    doc: 'The timeout of each back-channel request',
  },
  loginGraceSeconds: {
    env: 'OIDC_LOGIN_GRACE',
    type: 'integer',
    min: 0,
    max: 86_400,
    unit: 'seconds',
    default: 240,
    doc: 'How long a user has to finish a login after its `request_uri` expires',
  },
  clockToleranceSeconds: {
    env: 'OIDC_CLOCK_TOLERANCE',
    type: 'integer',
    min: 0,
    max: 600,
    unit: 'seconds',
    default: 30,
    doc: 'The clock skew tolerated when checking the times of ID tokens',
  },
  refreshSkewSeconds: {
    env: 'OIDC_REFRESH_SKEW',
    type: 'integer',
    min: 0,
    max: 3_600,
    unit: 'seconds',
    default: 30,
    doc: 'How long before its expiry an access token is refreshed',
  },
  fetchUserinfo: {
    env: 'OIDC_FETCH_USERINFO',
    type: 'boolean',
    default: false,
    doc: "Fetch the userinfo endpoint's claims at login",
  },
  restartStaleLogins: {
    env: 'OIDC_RESTART_STALE_LOGINS',
    type: 'boolean',
    default: true,
    doc: 'Start a fresh login once when an anonymous browser brings a stale callback',
  },
  loginRequired: {
    env: 'OIDC_LOGIN_REQUIRED',
    type: 'boolean',
    default: false,
    doc: 'Guard every route after `parLogin()` as `requireLogin()` does',
  },
  checkAcr: {
    env: 'OIDC_CHECK_ACR',
    type: 'boolean',
    default: true,
    doc: "Refuse a login whose ID token's `acr` is not one of those requested",
  },
  attemptSilentLogin: {
    env: 'OIDC_ATTEMPT_SILENT_LOGIN',
    type: 'boolean',
    default: false,
    doc: 'Try a silent login once per browser',
  },
  afterCallback: {
    type: 'object',
    defaultText: 'none',
    doc: 'Runs when a login is valid, before its session is written',
  },
  maxPendingLogins: {
    type: 'integer',
    min: 1,
    max: 50,
    default: 5,
    doc: 'How many logins one browser may have pending at once',
  },
  maxLoginStartsPerMinute: {
    env: 'OIDC_MAX_LOGIN_STARTS_PER_MINUTE',
    type: 'integer',
    min: 0,
    max: 10_000_000,
    default: 12_000,
    doc: 'How many logins one instance starts per minute in all',
  },
  maxLoginStartsPerIpPerMinute: {
    env: 'OIDC_MAX_LOGIN_STARTS_PER_IP_PER_MINUTE',
    type: 'integer',
    min: 0,
    max: 10_000_000,
    default: 300,
    doc: 'How many logins one instance starts per minute for one client IP',
  },
  maxResponseBytes: {
    type: 'integer',
    min: 1_024,
    max: 16_777_216,
    unit: 'bytes',
    default: 262_144,
    doc: 'The largest back-channel response body accepted',
  },
  jwksCooldownSeconds: {
    type: 'integer',
    min: 0,
    max: 86_400,
    unit: 'seconds',
    default: 30,
    doc: 'The shortest time between two JWKS refetches triggered by an unknown `kid`',
  },
  loginPath: { type: 'path', default: '/login', doc: 'The path of the route that starts a login' },
  callbackPath: { type: 'path', default: '/callback', doc: 'The path of the route the AS redirects back to' },
  logoutPath: { type: 'path', default: '/logout', doc: 'The path of the logout route' },
  mePath: { type: 'path', default: '/me', doc: 'The path of the session endpoint for a front end' },
  backchannelLogoutPath: {
    type: 'path',
    default: '/backchannel-logout',
    doc: 'The path where the AS posts logout tokens',
  },
  renderErrors: {
    type: 'boolean',
    default: true,
    doc: 'Whether the mounted routes render their errors themselves',
  },
  logger: {
    type: 'object',
    defaultText: 'one JSON line per failure on stderr',
    doc: 'Where failure records go',
  },
  debug: {
    env: 'DEBUG',
    type: 'debug',
    alsoEnv: 'NODE_DEBUG',
    default: false,
    doc: 'Trace every step of logins, refreshes and logouts',
  },
} as const satisfies OptionTable);

/** An option's name. */
export type OptionName = keyof typeof OPTION_TABLE;

/** The options of one kind, e.g. `OptionOfType<'integer'>`. */
export type OptionOfType<T extends OptionKind['type']> = {
  [K in OptionName]: (typeof OPTION_TABLE)[K]['type'] extends T ? K : never;
}[OptionName];

/** The row of `option`, for code that takes the name as a plain string. */
export function optionSpec(option: string): OptionSpec | undefined {
  return Object.hasOwn(OPTION_TABLE, option)
    ? (OPTION_TABLE as Record<string, OptionSpec>)[option]
    : undefined;
}

/**
 * How the docs give what an unset option means (Markdown): `required` (with its condition), a
 * fixed default in backticks (with its note), or the derived default's description.
 */
export function defaultText(spec: OptionSpec): string {
  if ('required' in spec) return spec.required === true ? 'required' : `required ${spec.required}`;
  if ('defaultText' in spec) return spec.defaultText;
  return `\`${String(spec.default)}\`${spec.note === undefined ? '' : ` (${spec.note})`}`;
}

/** The options of one kind, in table order. */
export function optionsOfType<T extends OptionKind['type']>(type: T): readonly OptionOfType<T>[] {
  return (Object.keys(OPTION_TABLE) as OptionName[]).filter(
    (name): name is OptionOfType<T> => OPTION_TABLE[name].type === type,
  );
}
