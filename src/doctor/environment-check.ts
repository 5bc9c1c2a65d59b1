/**
 * Doctor check: the environment variables are present and valid. It runs the library's own
 * resolution ({@link configFromEnv}, then {@link resolveConfig}), so it accepts and refuses exactly
 * what `parLogin()` would at start-up. Problems name the variable, never a secret's value.
 *
 * @module
 */
import { resolveConfig, type ResolvedConfig } from '../config/resolve-config.js';
import { configFromEnv, ENV_NAMES } from '../config/env.js';
import { ConfigError } from '../errors.js';
import { failed, passed, type CheckResult } from './check.js';

/** The outcome of {@link checkEnvironment}: its lines, and the configuration when it is valid. */
export interface EnvironmentCheck {
  readonly results: readonly CheckResult[];
  readonly config?: ResolvedConfig;
}

const NAME = 'Environment variables';

/** What to do about a problem with each variable. */
const FIXES: Readonly<Record<string, string>> = {
  OIDC_ISSUER:
    "Set OIDC_ISSUER to the AS's issuer identifier, exactly as its " +
    'discovery document states it (e.g. https://login.example.com).',
  OIDC_CLIENT_ID: 'Set OIDC_CLIENT_ID to the client id registered at the AS.',
  OIDC_CLIENT_AUTH_METHOD:
    'Set OIDC_CLIENT_AUTH_METHOD to client_secret_basic, client_secret_post, ' +
    'private_key_jwt, tls_client_auth or self_signed_tls_client_auth, or unset it.',
  OIDC_CLIENT_SECRET:
    'Set OIDC_CLIENT_SECRET to the secret registered at the AS, or use OIDC_PRIVATE_KEY with private_key_jwt.',
  OIDC_PRIVATE_KEY:
    'Set OIDC_PRIVATE_KEY to the private key (a private JWK as JSON, ' +
    'or a PKCS#8 PEM) whose public part is registered at the AS.',
  OIDC_PRIVATE_KEY_ALG:
    'Set OIDC_PRIVATE_KEY_ALG to an algorithm that fits the key (RS256, ES256, EdDSA, …), or unset it to derive it.',
  OIDC_ASSERTION_AUDIENCE: 'Set OIDC_ASSERTION_AUDIENCE to issuer or endpoint, or unset it.',
  OIDC_SCOPE: 'Set OIDC_SCOPE to space-separated scopes that include openid, e.g. "openid profile email".',
  OIDC_AUTH_PARAMS:
    'Remove the parameters the middleware sets itself from OIDC_AUTH_PARAMS (use OIDC_SCOPE for scope).',
  APP_BASE_URL:
    "Set APP_BASE_URL to the app's external URL as users reach it, " +
    'e.g. https://app.example.com (http only on localhost).',
  OIDC_POST_LOGOUT_REDIRECT_URI:
    'Set OIDC_POST_LOGOUT_REDIRECT_URI to an absolute https URL registered at the AS, or unset it.',
  SESSION_SECRET:
    'Set SESSION_SECRET to 32 or more random characters: node -e ' +
    "\"console.log(require('crypto').randomBytes(32).toString('base64url'))\"",
  SESSION_COOKIE_NAME:
    'Set SESSION_COOKIE_NAME to a plain cookie name (the __Host- prefix needs an https APP_BASE_URL), or unset it.',
  SESSION_ENCRYPTION_KEY:
    'Set SESSION_ENCRYPTION_KEY to comma-separated keys of 32 random bytes in base64url.',
  REDIS_URL: 'Set REDIS_URL to a redis:// or rediss:// URL, or unset it to keep sessions in memory.',
};

/** The fix of a variable without one of its own: from the kind of problem. */
function genericFix(variable: string, problem: string): string {
  return /must be an integer/.test(problem)
    ? `${variable}: set it to an integer in the range the message gives, or unset it for the default.`
    : `${variable}: set it as the message says (README.md, "Configuration"), or unset it for the default.`;
}

/** The variable a problem sentence names: `clientSecret (OIDC_CLIENT_SECRET) is required…`. */
function variableOf(problem: string): string | undefined {
  return /\(([A-Z][A-Z0-9_]*)\)/.exec(problem)?.[1];
}

/**
 * Resolve the configuration from `env` as `parLogin()` would and report each problem on its own line.
 *
 * @param env The environment to read.
 */
export function checkEnvironment(env: NodeJS.ProcessEnv): EnvironmentCheck {
  const set = Object.values(ENV_NAMES).filter((name) => (env[name] ?? '').trim() !== '');
  try {
    // A silent logger: the doctor reports on its own; nothing is mounted or served.
    const config = resolveConfig({ ...configFromEnv(env), logger: { warn() {}, error() {} } });
    return {
      config,
      results: [
        passed(NAME, `${set.join(', ')} set and valid (client authentication: ${config.clientAuthMethod})`),
      ],
    };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const results = err.problems.map((problem) => {
      const variable = variableOf(problem);
      return failed(
        NAME,
        problem,
        (variable && FIXES[variable]) ??
          (variable ? genericFix(variable, problem) : 'See README.md, "Configuration".'),
      );
    });
    return { results };
  }
}
