/**
 * One validation pass over the options, at start-up, producing a frozen configuration.
 * Every problem is collected and reported at once by a {@link ConfigError}; secrets are never quoted.
 * Each concern (client, site, request, profile, session, limits, paths, behaviour) is resolved by a
 * function of its own; defaults, ranges and choices come from the option table (option-table.ts).
 *
 * @module
 */
import type { Store } from 'express-session';
import { createTracer, type Tracer } from '../observability/debug.js';
import { describeOption } from './env.js';
import { ConfigError } from '../errors.js';
import { defaultLogger } from '../observability/log.js';
import { loadTlsMaterial, type TlsMaterial } from './tls-material.js';
import type {
  AfterCallback,
  AssertionAudience,
  ClientAuthMethod,
  DpopMode,
  FrontChannelParam,
  ParLoginLogger,
  ParLoginOptions,
  ParPolicy,
  RedisConnection,
  SecurityProfile,
} from './options.js';
import {
  checkProfile,
  FAPI2_ALGORITHMS,
  FAPI2_MAX_REQUEST_URI_LIFETIME,
  profileDefaults,
} from './fapi2-profile.js';
import { deriveKey } from '../crypto/seal.js';
import { JWS_ALGORITHMS } from '../crypto/jws.js';
import { importSigningKey, type SigningKey } from '../crypto/signing-key.js';
import { optionsOfType, OPTION_TABLE, type OptionOfType } from './option-table.js';
import {
  booleanOption,
  checkListValues,
  checkOrigins,
  checkRedisUrl,
  checkRedisUrls,
  checkUrl,
  enumOption,
  integerOption,
  nonEmpty,
  pathOption,
  requireString,
  stringOption,
  type Problem,
} from './option-checks.js';

/** Parameters the middleware sets itself; `authorizationParams` may not override them. */
export const PROTECTED_PARAMS = Object.freeze([
  'response_type',
  'client_id',
  'redirect_uri',
  'state',
  'nonce',
  'code_challenge',
  'code_challenge_method',
  'request_uri',
  'request',
  'client_secret',
  'client_assertion',
  'client_assertion_type',
  'response_mode',
]);

/** The validated configuration of one `parLogin()` instance. */
export interface ResolvedConfig {
  readonly issuer: string;
  readonly clientId: string;
  readonly clientAuthMethod: ClientAuthMethod;
  readonly clientSecret?: string;
  readonly signingKey?: SigningKey;
  readonly assertionAudience: AssertionAudience;
  readonly scope: string;
  readonly authorizationParams: Readonly<Record<string, string>>;
  /**
   * PAR policy (RFC 9126 §5): `required` refuses an AS without a PAR endpoint; `auto` falls back to a
   * classic request.
   */
  readonly par: ParPolicy;
  /** The security profile checked at start-up: `fapi2` (FAPI 2.0 Security Profile) or `none`. */
  readonly profile: SecurityProfile;
  /** Where the DPoP key lives (RFC 9449): `off`, per `session` or per `instance`. */
  readonly dpop: DpopMode;
  /** Push a signed request object (RFC 9101) instead of form parameters. */
  readonly requestObject: boolean;
  /** Client certificate, key and extra CAs for the back channel. */
  readonly tls?: TlsMaterial;
  /** Whether the client presents a certificate (use the AS's `mtls_endpoint_aliases`). */
  readonly useMtls: boolean;
  /** Origins per-request redirect URIs may use (`appOrigin` first). */
  readonly redirectOrigins: readonly string[];
  /** Parameters repeated in the browser leg beside `client_id` and `request_uri` (RFC 9126 §4), off by default. */
  readonly frontChannelParams: readonly FrontChannelParam[];
  /** Whether the callback must carry `iss` even when the AS does not advertise RFC 9207. */
  readonly requireIss: boolean;
  /** JWS algorithms accepted for ID tokens. */
  readonly idTokenAlgorithms: readonly string[];
  /** Longest `request_uri` lifetime accepted, in seconds. */
  readonly maxRequestUriLifetimeSeconds: number;
  /** The base URL without a trailing slash. */
  readonly baseUrl: string;
  /** The path part of the base URL without a trailing slash (`''` at the root). */
  readonly basePath: string;
  /** The origin of the base URL, for same-origin checks. */
  readonly appOrigin: string;
  /** Whether the base URL is https (cookies are then `Secure` and `__Host-` prefixed). */
  readonly secure: boolean;
  readonly redirectUri: string;
  readonly postLogoutRedirectUri: string;
  readonly sessionSecret: string;
  /** Every secret that verifies session cookies: `sessionSecret` first (it signs), then the previous ones. */
  readonly sessionSecrets: readonly string[];
  readonly sessionCookieName: string;
  readonly sessionAbsoluteTimeoutSeconds: number;
  readonly sessionIdleTimeoutSeconds: number;
  /** Token encryption keys, 32 bytes each; the first encrypts. */
  readonly sessionEncryptionKeys: readonly Buffer[];
  readonly redisUrl?: string;
  readonly redisClient?: RedisConnection;
  /** Cluster nodes to start from (`redisClusterNodes`), when sessions are in a Redis Cluster. */
  readonly redisClusterNodes?: readonly string[];
  /** The Sentinels and their master's name, when sessions are in a Redis watched by Sentinel. */
  readonly redisSentinels?: Readonly<{ urls: readonly string[]; name: string }>;
  readonly sessionPrefix: string;
  /** The prefix of the shared state's keys in Redis, apart from the sessions'. */
  readonly statePrefix: string;
  readonly redisCommandTimeoutMs: number;
  readonly sessionStore?: Store;
  readonly httpTimeoutMs: number;
  readonly loginGraceSeconds: number;
  readonly maxPendingLogins: number;
  /** Login starts per minute one instance allows in all (0: no cap). */
  readonly maxLoginStartsPerMinute: number;
  /** Login starts per minute one instance allows for one client IP (0: no cap). */
  readonly maxLoginStartsPerIpPerMinute: number;
  readonly clockToleranceSeconds: number;
  readonly maxResponseBytes: number;
  readonly jwksCooldownSeconds: number;
  /** Seconds before expiry at which `accessToken()` refreshes. */
  readonly refreshSkewSeconds: number;
  /** Whether the userinfo endpoint's claims are fetched and merged at login. */
  readonly fetchUserinfo: boolean;
  /** Whether a stale callback of an anonymous browser starts a fresh login once. */
  readonly restartStaleLogins: boolean;
  /** Whether every route after the middleware needs a login. */
  readonly loginRequired: boolean;
  /** Whether a login's ID token must carry one of the `acr` values it asked for. */
  readonly checkAcr: boolean;
  /** Whether an anonymous browser's first navigation tries a `prompt=none` login. */
  readonly attemptSilentLogin: boolean;
  /** The app's hook between a valid login and its session (app/after-callback.ts). */
  readonly afterCallback?: AfterCallback;
  readonly paths: Readonly<{
    login: string;
    callback: string;
    logout: string;
    me: string;
    backchannelLogout: string;
  }>;
  readonly renderErrors: boolean;
  readonly logger: ParLoginLogger;
  /** Step tracing (off unless `debug` or DEBUG/NODE_DEBUG asks for it). */
  readonly trace: Tracer;
}

const SECRET_METHODS = new Set<ClientAuthMethod>(['client_secret_basic', 'client_secret_post']);
const MTLS_METHODS = new Set<ClientAuthMethod>(['tls_client_auth', 'self_signed_tls_client_auth']);
const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Longest `request_uri` lifetime accepted without a profile, in seconds. */
const MAX_REQUEST_URI_LIFETIME = 3600;

type ClientPart = Pick<
  ResolvedConfig,
  | 'issuer'
  | 'clientId'
  | 'clientAuthMethod'
  | 'clientSecret'
  | 'signingKey'
  | 'assertionAudience'
  | 'requestObject'
  | 'tls'
  | 'useMtls'
>;
type SitePart = Pick<
  ResolvedConfig,
  | 'baseUrl'
  | 'basePath'
  | 'appOrigin'
  | 'secure'
  | 'redirectUri'
  | 'postLogoutRedirectUri'
  | 'redirectOrigins'
>;
type RequestPart = Pick<ResolvedConfig, 'scope' | 'authorizationParams' | 'par' | 'frontChannelParams'>;
type ProfilePart = Pick<
  ResolvedConfig,
  'profile' | 'dpop' | 'requireIss' | 'idTokenAlgorithms' | 'maxRequestUriLifetimeSeconds'
>;
type SessionPart = Pick<
  ResolvedConfig,
  'sessionSecret' | 'sessionSecrets' | 'sessionCookieName' | 'sessionEncryptionKeys'
>;
type StorePart = Pick<
  ResolvedConfig,
  | 'redisUrl'
  | 'redisClusterNodes'
  | 'redisSentinels'
  | 'redisClient'
  | 'sessionStore'
  | 'sessionPrefix'
  | 'statePrefix'
>;
type LimitsPart = Pick<ResolvedConfig, OptionOfType<'integer'>>;
type BehaviourPart = Pick<
  ResolvedConfig,
  | 'fetchUserinfo'
  | 'restartStaleLogins'
  | 'loginRequired'
  | 'checkAcr'
  | 'attemptSilentLogin'
  | 'afterCallback'
  | 'renderErrors'
  | 'logger'
  | 'trace'
>;

/**
 * Validate options and derive the configuration. Reports every problem at once.
 *
 * @param options The merged options (environment, then explicit).
 * @throws {ConfigError} listing each problem, naming the option and its environment variable.
 */
export function resolveConfig(options: ParLoginOptions): ResolvedConfig {
  const problems: string[] = [];
  const problem: Problem = (option, text) => void problems.push(`${describeOption(option)} ${text}`);
  refuseRenamed(options, problems);
  const client = resolveClient(options, problem);
  const paths = resolvePaths(options, problem);
  const site = resolveSite(options, paths.callback, problem);
  const request = resolveRequest(options, problem);
  const limits = resolveLimits(options, problem);
  const profile = resolveProfile(options, { ...client, ...request, ...limits }, problem);
  const session = resolveSession(options, site.secure, problem);
  const store = resolveStore(options, problem);
  const behaviour = resolveBehaviour(options, problem);
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze({
    ...client,
    ...request,
    ...profile,
    ...site,
    ...session,
    ...store,
    ...limits,
    paths,
    ...behaviour,
  });
}

/** Options renamed to carry their unit in the name (0.2.0); the value keeps its meaning. */
const RENAMED_OPTIONS: Readonly<Record<string, keyof ParLoginOptions>> = Object.freeze({
  sessionAbsoluteTimeout: 'sessionAbsoluteTimeoutSeconds',
  sessionIdleTimeout: 'sessionIdleTimeoutSeconds',
  loginGrace: 'loginGraceSeconds',
  clockTolerance: 'clockToleranceSeconds',
  refreshSkew: 'refreshSkewSeconds',
  jwksCooldown: 'jwksCooldownSeconds',
});

/** An option under its old name is refused with its new one, rather than silently ignored. */
function refuseRenamed(options: ParLoginOptions, problems: string[]): void {
  for (const [old, renamed] of Object.entries(RENAMED_OPTIONS)) {
    if (old in options)
      problems.push(`${old} is no longer supported: use ${renamed} (the same number of seconds)`);
  }
}

/** The AS, the client's identity and how it authenticates: secret, private key, or certificate. */
function resolveClient(options: ParLoginOptions, problem: Problem): ClientPart {
  checkUrl(options.issuer, 'issuer', problem);
  const clientId = requireString(options.clientId, 'clientId', problem);
  const tls = loadTlsMaterial(options, problem);
  const method = enumOption(options, 'clientAuthMethod', problem, defaultAuthMethod(options));
  if (SECRET_METHODS.has(method) && !nonEmpty(options.clientSecret)) {
    problem('clientSecret', `is required with ${method}`);
  }
  if (MTLS_METHODS.has(method) && tls?.cert === undefined) {
    problem('tlsClientCert', `and tlsClientKey are required with ${method}`);
  }
  const requestObject = booleanOption(options, 'requestObject', problem);
  const signingKey =
    method === 'private_key_jwt' || requestObject
      ? resolveSigningKey(
          options,
          method === 'private_key_jwt' ? 'private_key_jwt' : 'requestObject',
          problem,
        )
      : undefined;
  return {
    issuer: options.issuer as string,
    clientId,
    clientAuthMethod: method,
    ...(SECRET_METHODS.has(method) ? { clientSecret: options.clientSecret } : {}),
    ...(signingKey ? { signingKey } : {}),
    assertionAudience: enumOption(options, 'assertionAudience', problem),
    requestObject,
    ...(tls ? { tls } : {}),
    useMtls: tls?.cert !== undefined,
  };
}

/** The default client authentication: the one whose credential alone is given. */
function defaultAuthMethod(options: ParLoginOptions): ClientAuthMethod {
  const hasSecret = options.clientSecret !== undefined;
  if (options.privateKey !== undefined && !hasSecret) return 'private_key_jwt';
  if (options.tlsClientCert !== undefined && !hasSecret) return 'tls_client_auth';
  return 'client_secret_basic';
}

/** The client's signing key, which `neededBy` (private_key_jwt or requestObject) requires. */
function resolveSigningKey(
  options: ParLoginOptions,
  neededBy: string,
  problem: Problem,
): SigningKey | undefined {
  if (options.privateKey === undefined || options.privateKey === '') {
    problem('privateKey', `is required with ${neededBy}: a private JWK as JSON or a PKCS#8 PEM`);
    return undefined;
  }
  const imported = importSigningKey(
    options.privateKey,
    stringOption(options, 'privateKeyAlg', problem),
    stringOption(options, 'privateKeyId', problem),
  );
  if ('problem' in imported) return void problem('privateKey', imported.problem);
  return imported;
}

/** The app's own URLs: its base URL and origin, the redirect URI, where logout ends, extra redirect origins. */
function resolveSite(options: ParLoginOptions, callbackPath: string, problem: Problem): SitePart {
  const url = checkUrl(options.baseUrl, 'baseUrl', problem);
  const baseUrl = url ? url.href.replace(/\/$/, '') : '';
  const appOrigin = url?.origin ?? '';
  const origins = checkOrigins(options.redirectOrigins, problem);
  const postLogoutRedirectUri =
    options.postLogoutRedirectUri === undefined
      ? `${baseUrl}/`
      : (checkUrl(options.postLogoutRedirectUri, 'postLogoutRedirectUri', problem, { keepQuery: true })
          ?.href ?? '');
  return {
    baseUrl,
    basePath: url ? url.pathname.replace(/\/$/, '') : '',
    appOrigin,
    secure: url?.protocol === 'https:',
    redirectUri: `${baseUrl}${callbackPath}`,
    postLogoutRedirectUri,
    redirectOrigins: Object.freeze([appOrigin, ...origins.filter((origin) => origin !== appOrigin)]),
  };
}

/** What every authorization request carries, and how it travels. */
function resolveRequest(options: ParLoginOptions, problem: Problem): RequestPart {
  const scope = (stringOption(options, 'scope', problem) ?? OPTION_TABLE.scope.default)
    .trim()
    .split(/\s+/)
    .join(' ');
  if (!scope.split(' ').includes('openid')) problem('scope', `must include "openid" (got "${scope}")`);
  const authorizationParams = { ...(options.authorizationParams ?? {}) };
  const overridden = Object.keys(authorizationParams).filter(
    (name) => PROTECTED_PARAMS.includes(name) || name === 'scope',
  );
  if (overridden.length > 0)
    problem(
      'authorizationParams',
      `may not set ${overridden.join(', ')}: the middleware sets them (use the scope option for scope)`,
    );
  const par = enumOption(options, 'par', problem);
  const frontChannelParams = [...(options.frontChannelParams ?? [])];
  checkListValues(frontChannelParams, 'frontChannelParams', problem);
  return {
    scope,
    authorizationParams: Object.freeze(authorizationParams),
    par,
    frontChannelParams: Object.freeze(frontChannelParams),
  };
}

/** The security profile, the DPoP mode it implies, and every way the configuration breaks it. */
function resolveProfile(
  options: ParLoginOptions,
  resolved: ClientPart & RequestPart & LimitsPart,
  problem: Problem,
): ProfilePart {
  const profile = enumOption(options, 'profile', problem);
  const dpop = enumOption(options, 'dpop', problem, profileDefaults(profile, resolved.useMtls).dpop);
  checkProfile(
    profile,
    {
      par: resolved.par,
      clientAuthMethod: resolved.clientAuthMethod,
      assertionAudience: resolved.assertionAudience,
      dpop,
      loginGraceSeconds: resolved.loginGraceSeconds,
      hasClientCertificate: resolved.useMtls,
      ...(resolved.signingKey ? { signingAlg: resolved.signingKey.alg } : {}),
    },
    problem,
  );
  const fapi2 = profile === 'fapi2';
  return {
    profile,
    dpop,
    requireIss: fapi2,
    idTokenAlgorithms: fapi2 ? FAPI2_ALGORITHMS : JWS_ALGORITHMS,
    maxRequestUriLifetimeSeconds: fapi2 ? FAPI2_MAX_REQUEST_URI_LIFETIME : MAX_REQUEST_URI_LIFETIME,
  };
}

/** The session cookie (secrets, name) and the keys that encrypt tokens in the session store. */
function resolveSession(options: ParLoginOptions, secure: boolean, problem: Problem): SessionPart {
  const sessionSecret = typeof options.sessionSecret === 'string' ? options.sessionSecret : '';
  if (sessionSecret.length < 32) {
    problem(
      'sessionSecret',
      sessionSecret === ''
        ? 'is required: a random string of at least 32 characters'
        : 'is too short: use at least 32 random characters',
    );
  }
  const previous: unknown = options.previousSessionSecrets ?? [];
  const previousOk =
    Array.isArray(previous) && previous.every((old) => typeof old === 'string' && old.length >= 32);
  if (!previousOk)
    problem(
      'previousSessionSecrets',
      'must be earlier session secrets of at least 32 characters each, comma-separated',
    );
  const sessionSecrets = [sessionSecret, ...(Array.isArray(previous) ? (previous as string[]) : [])];
  const keyMaterial =
    typeof options.sessionEncryptionKey === 'string'
      ? [options.sessionEncryptionKey]
      : (options.sessionEncryptionKey ?? []);
  if (keyMaterial.some((key) => typeof key !== 'string' || key.length < 16)) {
    problem(
      'sessionEncryptionKey',
      'must be keys of at least 16 characters (base64url 32-byte keys recommended), comma-separated',
    );
  }
  return {
    sessionSecret,
    sessionSecrets: Object.freeze(sessionSecrets),
    sessionCookieName: resolveCookieName(options, secure, problem),
    sessionEncryptionKeys: Object.freeze(
      (keyMaterial.length > 0 ? keyMaterial : sessionSecrets).map(deriveKey),
    ),
  };
}

/**
 * The session cookie's name, which also begins the name of every pending-login cookie. On https it
 * always carries the `__Host-` prefix, added to a configured name that lacks it: a `__Host-` cookie
 * can only be set by this host, over https, for `Path=/`, so a sibling subdomain cannot plant one
 * (cookie tossing) to log a victim into the attacker's account.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6265#section-8.6
 * @see https://datatracker.ietf.org/doc/html/draft-ietf-httpbis-rfc6265bis#section-4.1.3.2
 */
function resolveCookieName(options: ParLoginOptions, secure: boolean, problem: Problem): string {
  const configured = stringOption(options, 'sessionCookieName', problem) ?? 'parlogin';
  if (!COOKIE_NAME.test(configured))
    problem('sessionCookieName', `is not a valid cookie name (got "${configured}")`);
  if (configured.startsWith('__Host-') && !secure)
    problem('sessionCookieName', 'uses the __Host- prefix, which needs an https baseUrl');
  return secure && !configured.startsWith('__Host-') ? `__Host-${configured}` : configured;
}

/** Where sessions (and the shared state) are stored: Redis by URL or client, or an app's store. */
function resolveStore(options: ParLoginOptions, problem: Problem): StorePart {
  const redisUrl = checkRedisUrl(options.redisUrl, problem);
  const clusterNodes = checkRedisUrls(options.redisClusterNodes, problem, 'redisClusterNodes');
  const sentinels = checkRedisUrls(options.redisSentinels, problem, 'redisSentinels');
  const sentinelName = stringOption(options, 'redisSentinelName', problem);
  if (sentinels !== undefined && !sentinelName)
    problem('redisSentinelName', 'is required with redisSentinels');
  const sources = [options.redisUrl, options.redisClusterNodes, options.redisSentinels].filter(
    (source) => source !== undefined && String(source) !== '',
  );
  if (sources.length > 1)
    problem('redisUrl', 'redisClusterNodes and redisSentinels exclude each other: set one of them');
  if (
    options.redisClient !== undefined &&
    typeof (options.redisClient as { connect?: unknown }).connect !== 'function'
  ) {
    problem('redisClient', 'must be a node-redis client, Cluster or Sentinel');
  }
  if (
    options.sessionStore !== undefined &&
    typeof (options.sessionStore as { get?: unknown }).get !== 'function'
  ) {
    problem('sessionStore', 'must be an express-session store');
  }
  const sessionPrefix = keyPrefix(
    options.sessionPrefix ?? OPTION_TABLE.sessionPrefix.default,
    'sessionPrefix',
    problem,
  );
  const statePrefix = keyPrefix(
    options.statePrefix ?? defaultStatePrefix(sessionPrefix),
    'statePrefix',
    problem,
  );
  if (statePrefix.startsWith(sessionPrefix) || sessionPrefix.startsWith(statePrefix)) {
    problem(
      'statePrefix',
      `must not start with sessionPrefix, nor sessionPrefix with it (the session store's scans would ` +
        `see the shared state): end SESSION_PREFIX with ":" or set REDIS_STATE_PREFIX`,
    );
  }
  return {
    ...(redisUrl ? { redisUrl } : {}),
    ...(clusterNodes ? { redisClusterNodes: Object.freeze(clusterNodes) } : {}),
    ...(sentinels && sentinelName
      ? { redisSentinels: Object.freeze({ urls: Object.freeze(sentinels), name: sentinelName }) }
      : {}),
    ...(options.redisClient ? { redisClient: options.redisClient } : {}),
    ...(options.sessionStore ? { sessionStore: options.sessionStore } : {}),
    sessionPrefix,
    statePrefix,
  };
}

/** A key prefix: up to 64 printable characters without spaces. */
function keyPrefix(value: unknown, option: 'sessionPrefix' | 'statePrefix', problem: Problem): string {
  if (typeof value === 'string' && /^[\x21-\x7e]{0,64}$/.test(value)) return value;
  problem(option, 'must be up to 64 printable characters without spaces');
  return '';
}

/** `parlogin:` → `parlogin-state:`: beside the sessions, never under their prefix. */
function defaultStatePrefix(sessionPrefix: string): string {
  return `${sessionPrefix.endsWith(':') ? sessionPrefix.slice(0, -1) : sessionPrefix}-state:`;
}

/** Every integer option (timeouts, lifetimes, sizes, counts), within the table's range. */
function resolveLimits(options: ParLoginOptions, problem: Problem): LimitsPart {
  return Object.fromEntries(
    optionsOfType('integer').map((name) => [name, integerOption(options, name, problem)]),
  ) as LimitsPart;
}

/** The route paths, which must differ. */
function resolvePaths(options: ParLoginOptions, problem: Problem): ResolvedConfig['paths'] {
  const paths = Object.freeze({
    login: pathOption(options, 'loginPath', problem),
    callback: pathOption(options, 'callbackPath', problem),
    logout: pathOption(options, 'logoutPath', problem),
    me: pathOption(options, 'mePath', problem),
    backchannelLogout: pathOption(options, 'backchannelLogoutPath', problem),
  });
  if (new Set(Object.values(paths)).size !== Object.keys(paths).length)
    problem('loginPath', 'callbackPath, logoutPath, mePath and backchannelLogoutPath must differ');
  return paths;
}

/** What the middleware does besides logging in: userinfo, stale logins, errors, logs and tracing. */
function resolveBehaviour(options: ParLoginOptions, problem: Problem): BehaviourPart {
  if (
    options.logger !== undefined &&
    (typeof options.logger?.warn !== 'function' || typeof options.logger?.error !== 'function')
  ) {
    problem('logger', 'must have warn(record) and error(record) functions');
  }
  const debug: unknown = options.debug;
  if (debug !== undefined && typeof debug !== 'boolean' && typeof debug !== 'function')
    problem('debug', 'must be true, false or a function');
  const afterCallback: unknown = options.afterCallback;
  if (afterCallback !== undefined && typeof afterCallback !== 'function')
    problem('afterCallback', 'must be a function (req, claims, tokens)');
  return {
    fetchUserinfo: booleanOption(options, 'fetchUserinfo', problem),
    restartStaleLogins: booleanOption(options, 'restartStaleLogins', problem),
    loginRequired: booleanOption(options, 'loginRequired', problem),
    checkAcr: booleanOption(options, 'checkAcr', problem),
    attemptSilentLogin: booleanOption(options, 'attemptSilentLogin', problem),
    ...(typeof afterCallback === 'function' ? { afterCallback: options.afterCallback } : {}),
    renderErrors: booleanOption(options, 'renderErrors', problem),
    logger: options.logger ?? defaultLogger,
    trace: createTracer(
      typeof debug === 'boolean' || typeof debug === 'function' ? options.debug : undefined,
    ),
  };
}
