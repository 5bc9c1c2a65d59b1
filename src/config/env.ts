/**
 * The only reader of environment variables. `configFromEnv` maps them to {@link ParLoginOptions};
 * validation happens once, in {@link resolveConfig}, which names the variable in every problem.
 *
 * @module
 */
import { namespaceEnabled } from '../observability/debug.js';
import type { ParLoginOptions } from './options.js';

/** The environment variable behind each option that has one. */
export const ENV_NAMES = Object.freeze({
  issuer: 'OIDC_ISSUER',
  clientId: 'OIDC_CLIENT_ID',
  clientAuthMethod: 'OIDC_CLIENT_AUTH_METHOD',
  clientSecret: 'OIDC_CLIENT_SECRET',
  privateKey: 'OIDC_PRIVATE_KEY',
  privateKeyAlg: 'OIDC_PRIVATE_KEY_ALG',
  privateKeyId: 'OIDC_PRIVATE_KEY_ID',
  assertionAudience: 'OIDC_ASSERTION_AUDIENCE',
  scope: 'OIDC_SCOPE',
  authorizationParams: 'OIDC_AUTH_PARAMS',
  par: 'OIDC_PAR',
  profile: 'OIDC_PROFILE',
  dpop: 'OIDC_DPOP',
  requestObject: 'OIDC_REQUEST_OBJECT',
  tlsClientCert: 'OIDC_TLS_CLIENT_CERT',
  tlsClientKey: 'OIDC_TLS_CLIENT_KEY',
  tlsCa: 'OIDC_TLS_CA',
  redirectOrigins: 'OIDC_REDIRECT_ORIGINS',
  frontChannelParams: 'OIDC_FRONT_CHANNEL_PARAMS',
  baseUrl: 'APP_BASE_URL',
  postLogoutRedirectUri: 'OIDC_POST_LOGOUT_REDIRECT_URI',
  sessionSecret: 'SESSION_SECRET',
  previousSessionSecrets: 'SESSION_SECRET_PREVIOUS',
  sessionCookieName: 'SESSION_COOKIE_NAME',
  sessionAbsoluteTimeout: 'SESSION_ABSOLUTE_TIMEOUT',
  sessionIdleTimeout: 'SESSION_IDLE_TIMEOUT',
  sessionEncryptionKey: 'SESSION_ENCRYPTION_KEY',
  redisUrl: 'REDIS_URL',
  sessionPrefix: 'SESSION_PREFIX',
  redisCommandTimeoutMs: 'REDIS_COMMAND_TIMEOUT_MS',
  httpTimeoutMs: 'OIDC_HTTP_TIMEOUT_MS',
  loginGrace: 'OIDC_LOGIN_GRACE',
  clockTolerance: 'OIDC_CLOCK_TOLERANCE',
  refreshSkew: 'OIDC_REFRESH_SKEW',
  fetchUserinfo: 'OIDC_FETCH_USERINFO',
  restartStaleLogins: 'OIDC_RESTART_STALE_LOGINS',
  debug: 'DEBUG',
} as const satisfies Partial<Record<keyof ParLoginOptions, string>>);

const LISTS = new Set<string>([
  'sessionEncryptionKey',
  'previousSessionSecrets',
  'redirectOrigins',
  'frontChannelParams',
]);
const BOOLEAN_OPTIONS = new Set<string>(['requestObject', 'fetchUserinfo', 'restartStaleLogins']);
const BOOLEANS: Readonly<Record<string, boolean>> = {
  true: true,
  '1': true,
  yes: true,
  false: false,
  '0': false,
  no: false,
};
const NUMERIC = new Set<string>([
  'sessionAbsoluteTimeout',
  'sessionIdleTimeout',
  'redisCommandTimeoutMs',
  'httpTimeoutMs',
  'loginGrace',
  'clockTolerance',
  'refreshSkew',
]);

/**
 * Read the configuration from environment variables. Empty variables count as unset. Numbers are
 * parsed here; a value that is not a number is passed on as text so that validation can report it.
 * Never throws: {@link parLogin} validates the result together with explicit options.
 *
 * @param env The environment to read. @default process.env
 * @returns The options the environment sets.
 */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): ParLoginOptions {
  const options: Record<string, unknown> = {};
  for (const [option, name] of Object.entries(ENV_NAMES)) {
    const raw = env[name];
    if (raw === undefined || raw.trim() === '') continue;
    const value = raw.trim();
    if (NUMERIC.has(option)) options[option] = /^\d+$/.test(value) ? Number(value) : value;
    else if (option === 'debug')
      continue; // below: DEBUG or NODE_DEBUG
    else if (option === 'authorizationParams')
      options[option] = Object.fromEntries(new URLSearchParams(value));
    else if (LISTS.has(option))
      options[option] = value
        .split(',')
        .map((item) => item.trim())
        .filter(Boolean);
    else if (BOOLEAN_OPTIONS.has(option)) options[option] = BOOLEANS[value.toLowerCase()] ?? value;
    else if (option === 'privateKey' || option === 'clientSecret' || option === 'sessionSecret')
      options[option] = raw;
    else options[option] = value;
  }
  if (namespaceEnabled(env.DEBUG, env.NODE_DEBUG)) options.debug = true;
  return options as ParLoginOptions;
}

/** `optionName (ENV_NAME)`, for problem sentences. */
export function describeOption(option: string): string {
  const name = (ENV_NAMES as Record<string, string>)[option];
  return name ? `${option} (${name})` : option;
}
