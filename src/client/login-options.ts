/**
 * Per-request authorization parameters: what `res.login(options)` and `GET /login` may ask for,
 * checked and normalized once per login into a JSON-safe {@link LoginRequest} that the transaction
 * keeps (to repeat the push after an expired `request_uri`, and to check `auth_time`).
 *
 * All of them travel only in the PAR body (RFC 9126 §2.1), never in the browser's URL.
 * - `scope`, `prompt`, `login_hint`, `acr_values`, `max_age`, `ui_locales`, `claims`: OIDC Core §3.1.2.1, §5.5.
 * - `authorization_details`: RFC 9396 §2 (a JSON array of objects, each with a string `type`).
 * - `resource`: RFC 8707 §2 (absolute URIs without fragment, one parameter each, repeated).
 * - `redirect_uri`: per request, restricted to configured origins and the callback path; servers
 *   accept unregistered redirect URIs only in an authenticated push (RFC 9126 §2.4).
 *
 * @module
 */
import type { ResolvedConfig } from '../config/resolve-config.js';
import { PROTECTED_PARAMS } from '../config/resolve-config.js';
import { ParLoginError } from '../errors.js';

/** What one login may ask of the AS. Every field is optional; unset ones fall back to the configuration. */
export interface LoginOptions {
  /** Where to go after login: a local path. @default `/` */
  returnTo?: string;
  /** The scope; must contain `openid`. @default the configured `scope` */
  scope?: string;
  /** `prompt` (OIDC Core §3.1.2.1): space-separated `none`, `login`, `consent`, `select_account`, `create`. */
  prompt?: string;
  /** `login_hint`: e.g. the e-mail address the user typed (kept out of the URL by PAR). */
  loginHint?: string;
  /** `acr_values`: requested authentication context classes, in order of preference. */
  acrValues?: string | readonly string[];
  /** `max_age` in seconds; the ID token must then carry an `auth_time` no older than this. */
  maxAge?: number;
  /** `ui_locales`: BCP 47 language tags, in order of preference. */
  uiLocales?: string | readonly string[];
  /** `claims` request (OIDC Core §5.5), as an object. */
  claims?: Record<string, unknown>;
  /** Rich Authorization Requests (RFC 9396): objects with a string `type`. */
  authorizationDetails?: ReadonlyArray<Record<string, unknown>>;
  /** Resource indicators (RFC 8707): absolute URIs, each sent as its own `resource` parameter. */
  resource?: string | readonly string[];
  /** A redirect URI for this login: one of `redirectOrigins` (or the app's origin) plus the callback path. */
  redirectUri?: string;
  /** Further parameters (strings, or arrays for repeated parameters); may not set those the middleware owns. */
  params?: Record<string, string | readonly string[]>;
}

/** A checked, normalized login request, as kept in the transaction (JSON-safe). */
export interface LoginRequest {
  /** The scope of this login, replacing the configured one (OIDC Core §3.1.2.1). */
  readonly scope?: string;
  /** Parameters in push order; a name may repeat. They replace same-named configured `authorizationParams`. */
  readonly params: ReadonlyArray<readonly [string, string]>;
  /** `max_age` in seconds: the ID token's `auth_time` is then checked (OIDC Core §3.1.3.7 item 13). */
  readonly maxAge?: number;
  /** Rich Authorization Requests (RFC 9396 §2) asked for, kept to report them with what was granted. */
  readonly authorizationDetails?: ReadonlyArray<Record<string, unknown>>;
  /** This login's own redirect URI, on one of the configured `redirectOrigins` (RFC 9126 §2.4). */
  readonly redirectUri?: string;
}

/** Query parameters `GET /login` accepts from the browser (harmless ones only). */
export const LOGIN_QUERY_OPTIONS = Object.freeze({
  prompt: 'prompt',
  login_hint: 'loginHint',
  ui_locales: 'uiLocales',
  max_age: 'maxAge',
} as const);

const PROMPTS = new Set(['none', 'login', 'consent', 'select_account', 'create']);
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;
const LOCALE = /^[A-Za-z0-9-]{1,35}$/;
const OWN_OPTION_PARAMS = new Set([
  'scope',
  'prompt',
  'login_hint',
  'acr_values',
  'max_age',
  'ui_locales',
  'claims',
  'authorization_details',
  'resource',
  'dpop_jkt',
]);
const MAX_VALUE = 4096;

function invalid(text: string): never {
  throw new ParLoginError('invalid_request', `Invalid login option: ${text}.`);
}

function list(value: unknown, name: string): string[] {
  const items =
    typeof value === 'string'
      ? value.split(' ').filter(Boolean)
      : Array.isArray(value)
        ? value
        : invalid(`${name} must be a string or an array of strings`);
  if (items.length === 0 || items.some((item) => typeof item !== 'string' || !SCOPE_TOKEN.test(item)))
    invalid(`${name} holds an empty or malformed value`);
  return items as string[];
}

function text(value: unknown, name: string): string {
  if (typeof value !== 'string' || value === '' || value.length > MAX_VALUE || hasControlCharacter(value))
    invalid(`${name} must be a non-empty string without control characters`);
  return value;
}

/** Whether `value` holds a C0 control character (U+0000 to U+001F) or DEL (U+007F). */
function hasControlCharacter(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

function checkRedirectUri(value: unknown, config: ResolvedConfig): string {
  let url: URL;
  try {
    url = new URL(text(value, 'redirectUri'));
  } catch {
    return invalid('redirectUri is not an absolute URL');
  }
  const callback = config.basePath + config.paths.callback;
  if (
    !config.redirectOrigins.includes(url.origin) ||
    url.pathname !== callback ||
    url.search ||
    url.hash ||
    url.username ||
    url.password
  ) {
    invalid(`redirectUri must be one of the configured origins followed by ${callback}`);
  }
  return url.href;
}

function checkResource(value: unknown): string[] {
  const items =
    typeof value === 'string'
      ? [value]
      : Array.isArray(value)
        ? value
        : invalid('resource must be a string or an array of strings');
  return items.map((item: unknown) => {
    try {
      const url = new URL(text(item, 'resource'));
      if (url.hash) throw new Error('fragment');
      return String(item); // as given: the AS compares resource indicators as strings
    } catch {
      return invalid('each resource must be an absolute URI without a fragment (RFC 8707 §2)');
    }
  });
}

function checkAuthorizationDetails(value: unknown): Array<Record<string, unknown>> {
  if (!Array.isArray(value) || value.length === 0)
    return invalid('authorizationDetails must be a non-empty array');
  for (const item of value) {
    if (
      typeof item !== 'object' ||
      item === null ||
      Array.isArray(item) ||
      typeof (item as { type?: unknown }).type !== 'string'
    ) {
      invalid('each authorizationDetails entry must be an object with a string type (RFC 9396 §2)');
    }
  }
  return JSON.parse(JSON.stringify(value)) as Array<Record<string, unknown>>;
}

/**
 * Check and normalize login options.
 *
 * @throws {ParLoginError} `invalid_request` (400) naming the option at fault.
 */
export function normalizeLoginOptions(options: LoginOptions, config: ResolvedConfig): LoginRequest {
  const params: Array<[string, string]> = [];
  let scope: string | undefined;
  if (options.scope !== undefined) {
    scope = list(options.scope, 'scope').join(' ');
    if (!scope.split(' ').includes('openid')) invalid('scope must include openid');
  }
  if (options.prompt !== undefined) {
    const prompts = list(options.prompt, 'prompt');
    if (prompts.some((p) => !PROMPTS.has(p)) || (prompts.includes('none') && prompts.length > 1))
      invalid('prompt must be none, or any of login, consent, select_account, create');
    params.push(['prompt', prompts.join(' ')]);
  }
  if (options.loginHint !== undefined) params.push(['login_hint', text(options.loginHint, 'loginHint')]);
  if (options.acrValues !== undefined)
    params.push(['acr_values', list(options.acrValues, 'acrValues').join(' ')]);
  let maxAge: number | undefined;
  if (options.maxAge !== undefined) {
    maxAge =
      typeof options.maxAge === 'string' && /^\d{1,9}$/.test(options.maxAge)
        ? Number(options.maxAge)
        : options.maxAge;
    if (typeof maxAge !== 'number' || !Number.isInteger(maxAge) || maxAge < 0 || maxAge > 31_536_000)
      invalid('maxAge must be an integer number of seconds');
    params.push(['max_age', String(maxAge)]);
  }
  if (options.uiLocales !== undefined) {
    const locales = list(options.uiLocales, 'uiLocales');
    if (locales.some((l) => !LOCALE.test(l))) invalid('uiLocales must be BCP 47 language tags');
    params.push(['ui_locales', locales.join(' ')]);
  }
  if (options.claims !== undefined) {
    if (typeof options.claims !== 'object' || options.claims === null || Array.isArray(options.claims))
      invalid('claims must be an object (OIDC Core §5.5)');
    params.push(['claims', JSON.stringify(options.claims)]);
  }
  let authorizationDetails: Array<Record<string, unknown>> | undefined;
  if (options.authorizationDetails !== undefined) {
    authorizationDetails = checkAuthorizationDetails(options.authorizationDetails);
    params.push(['authorization_details', JSON.stringify(authorizationDetails)]);
  }
  if (options.resource !== undefined)
    for (const resource of checkResource(options.resource)) params.push(['resource', resource]);
  for (const [name, value] of Object.entries(options.params ?? {})) {
    if (PROTECTED_PARAMS.includes(name) || OWN_OPTION_PARAMS.has(name))
      invalid(`params may not set ${name}${OWN_OPTION_PARAMS.has(name) ? ' (use its own option)' : ''}`);
    for (const item of typeof value === 'string'
      ? [value]
      : Array.isArray(value)
        ? value
        : invalid(`params.${name} must be a string or an array of strings`)) {
      params.push([name, text(item, `params.${name}`)]);
    }
  }
  const redirectUri =
    options.redirectUri === undefined ? undefined : checkRedirectUri(options.redirectUri, config);
  return Object.freeze({
    params: Object.freeze(params),
    ...(scope !== undefined ? { scope } : {}),
    ...(maxAge !== undefined ? { maxAge } : {}),
    ...(authorizationDetails !== undefined ? { authorizationDetails } : {}),
    ...(redirectUri !== undefined ? { redirectUri } : {}),
  });
}

/** The `max_age` in force for a login: the request's, else the configured `authorizationParams.max_age`. */
export function effectiveMaxAge(
  request: LoginRequest | undefined,
  config: ResolvedConfig,
): number | undefined {
  if (request?.maxAge !== undefined) return request.maxAge;
  const configured = config.authorizationParams.max_age;
  return configured !== undefined && /^\d{1,9}$/.test(configured) ? Number(configured) : undefined;
}

/**
 * The authentication context classes a login asked for, which its ID token's `acr` must be one
 * of (OIDC Core §3.1.3.7 item 12): the `values` (or `value`) of an essential `acr` claim in the
 * `claims` request (§5.5.1.1, which the AS must then satisfy), else the `acr_values` (§3.1.2.1);
 * each the login's own, else the configured `authorizationParams`'. An essential `acr` claim without
 * values asks for an `acr` of any value (an empty list). `undefined` when nothing was asked.
 *
 * @see https://openid.net/specs/openid-connect-core-1_0.html#IDTokenValidation
 * @see https://openid.net/specs/openid-connect-core-1_0.html#acrSemantics
 */
export function requestedAcr(
  request: LoginRequest | undefined,
  config: ResolvedConfig,
): readonly string[] | undefined {
  const param = (name: string): string | undefined =>
    request?.params.find(([key]) => key === name)?.[1] ?? config.authorizationParams[name];
  const essential = essentialAcrValues(param('claims'));
  if (essential !== undefined) return essential;
  const acrValues = param('acr_values')?.split(' ').filter(Boolean);
  return acrValues !== undefined && acrValues.length > 0 ? acrValues : undefined;
}

/** The values of an essential `acr` claim for the ID token in a `claims` request, if it has one. */
function essentialAcrValues(claims: string | undefined): readonly string[] | undefined {
  if (claims === undefined) return undefined;
  let acr: unknown;
  try {
    acr = (JSON.parse(claims) as { id_token?: { acr?: unknown } } | null)?.id_token?.acr;
  } catch {
    return undefined; // not JSON: the AS refuses the request before any ID token is issued
  }
  if (acr === null || typeof acr !== 'object' || (acr as { essential?: unknown }).essential !== true)
    return undefined;
  const { value, values } = acr as { value?: unknown; values?: unknown };
  if (Array.isArray(values)) return values.filter((item): item is string => typeof item === 'string');
  return typeof value === 'string' ? [value] : [];
}
