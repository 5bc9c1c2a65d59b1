/**
 * One validation pass over the options, at start-up, producing a frozen configuration.
 * Every problem is collected and reported at once by a {@link ConfigError}; secrets are never quoted.
 *
 * @module
 */
import type { KeyObject } from 'node:crypto';
import type { Store } from 'express-session';
import type { RedisClientType } from 'redis';
import { createTracer, type Tracer } from '../observability/debug.js';
import { describeOption } from './env.js';
import { ConfigError } from '../errors.js';
import { defaultLogger } from '../observability/log.js';
import { loadTlsMaterial, type TlsMaterial } from './tls-material.js';
import type {
  AssertionAudience,
  ClientAuthMethod,
  DpopMode,
  FrontChannelParam,
  ParLoginLogger,
  ParLoginOptions,
  ParPolicy,
  SecurityProfile,
} from './options.js';
import {
  checkProfile,
  FAPI2_ALGORITHMS,
  FAPI2_MAX_REQUEST_URI_LIFETIME,
  profileDefaults,
} from './fapi2-profile.js';
import { deriveKey } from '../crypto/seal.js';
import { ID_TOKEN_ALGORITHMS } from '../client/id-token.js';
import { importSigningKey, type SigningKey } from '../crypto/signing-key.js';

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
  /** PAR policy (RFC 9126 §5): `required` refuses an AS without a PAR endpoint; `auto` falls back to a classic request. */
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
  readonly maxRequestUriLifetime: number;
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
  readonly sessionAbsoluteTimeout: number;
  readonly sessionIdleTimeout: number;
  /** Token encryption keys, 32 bytes each; the first encrypts. */
  readonly sessionEncryptionKeys: readonly Buffer[];
  readonly redisUrl?: string;
  readonly redisClient?: RedisClientType;
  readonly sessionPrefix: string;
  readonly redisCommandTimeoutMs: number;
  readonly sessionStore?: Store;
  readonly httpTimeoutMs: number;
  readonly loginGrace: number;
  readonly maxPendingLogins: number;
  readonly clockTolerance: number;
  readonly maxResponseBytes: number;
  readonly jwksCooldown: number;
  /** Seconds before expiry at which `accessToken()` refreshes. */
  readonly refreshSkew: number;
  /** Whether the userinfo endpoint's claims are fetched and merged at login. */
  readonly fetchUserinfo: boolean;
  /** Whether a stale callback of an anonymous browser starts a fresh login once. */
  readonly restartStaleLogins: boolean;
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

const AUTH_METHODS: readonly ClientAuthMethod[] = [
  'client_secret_basic',
  'client_secret_post',
  'private_key_jwt',
  'tls_client_auth',
  'self_signed_tls_client_auth',
];
const SECRET_METHODS = new Set<ClientAuthMethod>(['client_secret_basic', 'client_secret_post']);
const MTLS_METHODS = new Set<ClientAuthMethod>(['tls_client_auth', 'self_signed_tls_client_auth']);
const PAR_POLICIES: readonly ParPolicy[] = ['required', 'auto'];
const PROFILES: readonly SecurityProfile[] = ['none', 'fapi2'];
const DPOP_MODES: readonly DpopMode[] = ['off', 'session', 'instance'];
const FRONT_CHANNEL: readonly FrontChannelParam[] = ['response_type', 'scope'];
const AUDIENCES: readonly AssertionAudience[] = ['issuer', 'endpoint'];
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);
const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const PATH = /^\/[A-Za-z0-9\-._~!$&'()*+,;=:@/%]*$/;

/**
 * Validate options and derive the configuration. Reports every problem at once.
 *
 * @param options The merged options (environment, then explicit).
 * @throws {ConfigError} listing each problem, naming the option and its environment variable.
 */
export function resolveConfig(options: ParLoginOptions): ResolvedConfig {
  const problems: string[] = [];
  const problem = (option: string, text: string): void =>
    void problems.push(`${describeOption(option)} ${text}`);

  const issuer = checkUrl(options.issuer, 'issuer', problem, { allowPath: true });
  const clientId = requireString(options.clientId, 'clientId', problem);
  const baseUrlObject = checkUrl(options.baseUrl, 'baseUrl', problem, {
    allowPath: true,
    allowHttpAnywhere: false,
  });

  const tls = loadTlsMaterial(options, problem);
  const method = options.clientAuthMethod ?? defaultAuthMethod(options);
  if (!AUTH_METHODS.includes(method))
    problem('clientAuthMethod', `must be one of ${AUTH_METHODS.join(', ')} (got "${String(method)}")`);
  if (SECRET_METHODS.has(method) && !nonEmpty(options.clientSecret)) {
    problem('clientSecret', `is required with ${method}`);
  }
  if (MTLS_METHODS.has(method) && tls?.cert === undefined) {
    problem('tlsClientCert', `and tlsClientKey are required with ${method}`);
  }
  const requestObject = options.requestObject ?? false;
  if (typeof requestObject !== 'boolean')
    problem('requestObject', `must be true or false (got "${String(requestObject)}")`);
  let signingKey: SigningKey | undefined;
  if (method === 'private_key_jwt' || requestObject === true) {
    if (options.privateKey === undefined || options.privateKey === '') {
      problem(
        'privateKey',
        `is required with ${method === 'private_key_jwt' ? 'private_key_jwt' : 'requestObject'}: a private JWK as JSON or a PKCS#8 PEM`,
      );
    } else {
      const imported = importSigningKey(
        options.privateKey as string | KeyObject,
        options.privateKeyAlg,
        options.privateKeyId,
      );
      if ('problem' in imported) problem('privateKey', imported.problem);
      else signingKey = imported;
    }
  }
  const assertionAudience = options.assertionAudience ?? 'issuer';
  if (!AUDIENCES.includes(assertionAudience))
    problem('assertionAudience', `must be "issuer" or "endpoint" (got "${String(assertionAudience)}")`);

  const scope =
    typeof options.scope === 'string' ? options.scope.trim().split(/\s+/).join(' ') : 'openid profile email';
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

  const par = options.par ?? 'required';
  if (!PAR_POLICIES.includes(par)) problem('par', `must be "required" or "auto" (got "${String(par)}")`);
  const profile = options.profile ?? 'none';
  if (!PROFILES.includes(profile)) problem('profile', `must be "none" or "fapi2" (got "${String(profile)}")`);
  const dpop = options.dpop ?? profileDefaults(profile, tls?.cert !== undefined).dpop;
  if (!DPOP_MODES.includes(dpop))
    problem('dpop', `must be "off", "session" or "instance" (got "${String(dpop)}")`);
  const redirectOrigins = checkOrigins(options.redirectOrigins, problem);
  const frontChannelParams = [...(options.frontChannelParams ?? [])];
  const unknownFront = frontChannelParams.filter((name) => !FRONT_CHANNEL.includes(name));
  if (unknownFront.length > 0)
    problem(
      'frontChannelParams',
      `may hold only ${FRONT_CHANNEL.join(', ')} (got "${unknownFront.join(', ')}")`,
    );

  const sessionSecret = typeof options.sessionSecret === 'string' ? options.sessionSecret : '';
  if (sessionSecret.length < 32) {
    problem(
      'sessionSecret',
      sessionSecret === ''
        ? 'is required: a random string of at least 32 characters'
        : 'is too short: use at least 32 random characters',
    );
  }
  const previousSessionSecrets = options.previousSessionSecrets ?? [];
  if (
    !Array.isArray(previousSessionSecrets) ||
    previousSessionSecrets.some((old) => typeof old !== 'string' || old.length < 32)
  ) {
    problem(
      'previousSessionSecrets',
      'must be earlier session secrets of at least 32 characters each, comma-separated',
    );
  }
  const sessionSecrets = [
    sessionSecret,
    ...(Array.isArray(previousSessionSecrets) ? previousSessionSecrets : []),
  ];

  const paths = {
    login: checkPath(options.loginPath, '/login', 'loginPath', problem),
    callback: checkPath(options.callbackPath, '/callback', 'callbackPath', problem),
    logout: checkPath(options.logoutPath, '/logout', 'logoutPath', problem),
    me: checkPath(options.mePath, '/me', 'mePath', problem),
    backchannelLogout: checkPath(
      options.backchannelLogoutPath,
      '/backchannel-logout',
      'backchannelLogoutPath',
      problem,
    ),
  };
  if (new Set(Object.values(paths)).size !== 5)
    problem('loginPath', 'callbackPath, logoutPath, mePath and backchannelLogoutPath must differ');

  const secure = baseUrlObject?.protocol === 'https:';
  const sessionCookieName = options.sessionCookieName ?? (secure ? '__Host-parlogin' : 'parlogin');
  if (!COOKIE_NAME.test(sessionCookieName))
    problem('sessionCookieName', `is not a valid cookie name (got "${sessionCookieName}")`);
  if (sessionCookieName.startsWith('__Host-') && !secure)
    problem('sessionCookieName', 'uses the __Host- prefix, which needs an https baseUrl');

  const numbers = {
    sessionAbsoluteTimeout: checkInteger(
      options.sessionAbsoluteTimeout,
      28_800,
      'sessionAbsoluteTimeout',
      60,
      31_536_000,
      problem,
    ),
    httpTimeoutMs: checkInteger(options.httpTimeoutMs, 5_000, 'httpTimeoutMs', 100, 120_000, problem),
    sessionIdleTimeout: checkInteger(
      options.sessionIdleTimeout,
      1_800,
      'sessionIdleTimeout',
      60,
      31_536_000,
      problem,
    ),
    redisCommandTimeoutMs: checkInteger(
      options.redisCommandTimeoutMs,
      1_000,
      'redisCommandTimeoutMs',
      50,
      60_000,
      problem,
    ),
    loginGrace: checkInteger(options.loginGrace, 240, 'loginGrace', 0, 86_400, problem),
    maxPendingLogins: checkInteger(options.maxPendingLogins, 5, 'maxPendingLogins', 1, 50, problem),
    clockTolerance: checkInteger(options.clockTolerance, 30, 'clockTolerance', 0, 600, problem),
    maxResponseBytes: checkInteger(
      options.maxResponseBytes,
      262_144,
      'maxResponseBytes',
      1_024,
      16_777_216,
      problem,
    ),
    jwksCooldown: checkInteger(options.jwksCooldown, 30, 'jwksCooldown', 0, 86_400, problem),
    refreshSkew: checkInteger(options.refreshSkew, 30, 'refreshSkew', 0, 3_600, problem),
  };

  const baseUrl = baseUrlObject ? baseUrlObject.href.replace(/\/$/, '') : '';
  const basePath = baseUrlObject ? baseUrlObject.pathname.replace(/\/$/, '') : '';
  let postLogoutRedirectUri = `${baseUrl}/`;
  if (options.postLogoutRedirectUri !== undefined) {
    postLogoutRedirectUri =
      checkUrl(options.postLogoutRedirectUri, 'postLogoutRedirectUri', problem, {
        allowPath: true,
        keepQuery: true,
      })?.href ?? '';
  }
  if (
    options.logger !== undefined &&
    (typeof options.logger?.warn !== 'function' || typeof options.logger?.error !== 'function')
  ) {
    problem('logger', 'must have warn(record) and error(record) functions');
  }
  const redisUrl = checkRedisUrl(options.redisUrl, problem);
  if (
    options.redisClient !== undefined &&
    typeof (options.redisClient as { connect?: unknown }).connect !== 'function'
  ) {
    problem('redisClient', 'must be a node-redis client');
  }
  if (
    options.sessionStore !== undefined &&
    typeof (options.sessionStore as { get?: unknown }).get !== 'function'
  ) {
    problem('sessionStore', 'must be an express-session store');
  }
  const sessionPrefix = options.sessionPrefix ?? 'parlogin:';
  if (typeof sessionPrefix !== 'string' || !/^[\x21-\x7e]{0,64}$/.test(sessionPrefix))
    problem('sessionPrefix', 'must be up to 64 printable characters without spaces');
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
  checkProfile(
    profile,
    {
      par,
      clientAuthMethod: method,
      assertionAudience,
      dpop,
      loginGrace: numbers.loginGrace,
      hasClientCertificate: tls?.cert !== undefined,
      ...(signingKey ? { signingAlg: signingKey.alg } : {}),
    },
    problem,
  );
  if (
    options.debug !== undefined &&
    typeof options.debug !== 'boolean' &&
    typeof options.debug !== 'function'
  )
    problem('debug', 'must be true, false or a function');
  const fetchUserinfo = options.fetchUserinfo ?? false;
  if (typeof fetchUserinfo !== 'boolean')
    problem('fetchUserinfo', `must be true or false (got "${String(fetchUserinfo)}")`);
  const restartStaleLogins = options.restartStaleLogins ?? true;
  if (typeof restartStaleLogins !== 'boolean')
    problem('restartStaleLogins', `must be true or false (got "${String(restartStaleLogins)}")`);
  if (problems.length > 0) throw new ConfigError(problems);
  const appOrigin = (baseUrlObject as URL).origin;

  return Object.freeze({
    issuer: options.issuer as string,
    clientId,
    clientAuthMethod: method,
    ...(SECRET_METHODS.has(method) ? { clientSecret: options.clientSecret as string } : {}),
    ...(signingKey ? { signingKey } : {}),
    assertionAudience,
    scope,
    authorizationParams: Object.freeze(authorizationParams),
    par,
    profile,
    dpop,
    requestObject,
    ...(tls ? { tls } : {}),
    useMtls: tls?.cert !== undefined,
    redirectOrigins: Object.freeze([appOrigin, ...redirectOrigins.filter((origin) => origin !== appOrigin)]),
    frontChannelParams: Object.freeze(frontChannelParams),
    requireIss: profile === 'fapi2',
    idTokenAlgorithms: profile === 'fapi2' ? FAPI2_ALGORITHMS : ID_TOKEN_ALGORITHMS,
    maxRequestUriLifetime: profile === 'fapi2' ? FAPI2_MAX_REQUEST_URI_LIFETIME : 3600,
    baseUrl,
    basePath,
    appOrigin,
    secure,
    redirectUri: `${baseUrl}${paths.callback}`,
    postLogoutRedirectUri,
    sessionSecret,
    sessionSecrets: Object.freeze(sessionSecrets),
    sessionCookieName,
    ...numbers,
    sessionEncryptionKeys: Object.freeze(
      (keyMaterial.length > 0 ? keyMaterial : sessionSecrets).map(deriveKey),
    ),
    ...(redisUrl ? { redisUrl } : {}),
    ...(options.redisClient ? { redisClient: options.redisClient } : {}),
    ...(options.sessionStore ? { sessionStore: options.sessionStore } : {}),
    sessionPrefix,
    paths: Object.freeze(paths),
    renderErrors: options.renderErrors ?? true,
    fetchUserinfo,
    restartStaleLogins,
    logger: options.logger ?? defaultLogger,
    trace: createTracer(options.debug),
  });
}

type Problem = (option: string, text: string) => void;

function defaultAuthMethod(options: ParLoginOptions): ClientAuthMethod {
  const hasSecret = options.clientSecret !== undefined;
  if (options.privateKey !== undefined && !hasSecret) return 'private_key_jwt';
  if (options.tlsClientCert !== undefined && !hasSecret) return 'tls_client_auth';
  return 'client_secret_basic';
}

function checkOrigins(value: unknown, problem: Problem): string[] {
  if (value === undefined) return [];
  const list = Array.isArray(value) ? value : [value];
  const origins: string[] = [];
  for (const item of list) {
    let url: URL | undefined;
    try {
      url = new URL(String(item));
    } catch {
      // reported below
    }
    const secureEnough =
      url !== undefined &&
      (url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK.has(url.hostname)));
    if (
      url === undefined ||
      !secureEnough ||
      url.pathname !== '/' ||
      url.search ||
      url.hash ||
      url.username ||
      url.password
    ) {
      problem(
        'redirectOrigins',
        `must be https origins like "https://tenant.example.com" (got "${String(item)}")`,
      );
    } else {
      origins.push(url.origin);
    }
  }
  return origins;
}

function nonEmpty(value: unknown): value is string {
  return typeof value === 'string' && value !== '';
}

function requireString(value: unknown, option: string, problem: Problem): string {
  if (!nonEmpty(value)) problem(option, 'is required');
  return String(value ?? '');
}

function checkUrl(
  value: unknown,
  option: string,
  problem: Problem,
  { allowPath = true, keepQuery = false, allowHttpAnywhere = false } = {},
): URL | undefined {
  if (!nonEmpty(value)) return void problem(option, 'is required: an absolute https URL');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return void problem(option, `is not an absolute URL (got "${value}")`);
  }
  if (
    url.protocol !== 'https:' &&
    !(url.protocol === 'http:' && (allowHttpAnywhere || LOOPBACK.has(url.hostname)))
  ) {
    return void problem(
      option,
      `must use https (http is allowed only on localhost/127.0.0.1/[::1]; got "${value}")`,
    );
  }
  if (url.username || url.password) return void problem(option, 'must not contain credentials');
  if (url.hash || (!keepQuery && url.search))
    return void problem(option, `must not have a query or fragment (got "${value}")`);
  if (!allowPath && url.pathname !== '/')
    return void problem(option, `must not have a path (got "${value}")`);
  return url;
}

function checkRedisUrl(value: unknown, problem: Problem): string | undefined {
  if (value === undefined) return undefined;
  try {
    const url = new URL(String(value));
    if (url.protocol === 'redis:' || url.protocol === 'rediss:') return url.href;
  } catch {
    // reported below, without echoing the URL: it may hold a password
  }
  problem('redisUrl', 'must be a redis:// or rediss:// URL');
  return undefined;
}

function checkPath(value: unknown, fallback: string, option: string, problem: Problem): string {
  if (value === undefined) return fallback;
  if (
    typeof value !== 'string' ||
    !PATH.test(value) ||
    value.startsWith('//') ||
    (value.length > 1 && value.endsWith('/'))
  ) {
    problem(option, `must be a path like "${fallback}" (got "${String(value)}")`);
    return fallback;
  }
  return value;
}

function checkInteger(
  value: unknown,
  fallback: number,
  option: string,
  min: number,
  max: number,
  problem: Problem,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    problem(option, `must be an integer from ${min} to ${max} (got "${String(value)}")`);
    return fallback;
  }
  return value;
}
