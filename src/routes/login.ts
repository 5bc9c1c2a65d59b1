/**
 * Starting a login with a pushed authorization request (RFC 9126 §2, §4): `GET /login` and
 * `res.login(options)`.
 *
 * A fresh transaction (state, nonce, PKCE S256 verifier) is created; the authorization request —
 * configured and per-request parameters, `dpop_jkt` with DPoP (RFC 9449 §10), as a signed request
 * object with JAR (RFC 9101) — is pushed over the back channel; only then is the transaction bound
 * to the browser (login-binding.ts: an entry in the shared state and a cookie of its own; the
 * session is not touched), before the browser is sent to the authorization endpoint with **only**
 * `client_id` and `request_uri` (RFC 9126 §4), plus the opt-in `frontChannelParams`. Nothing of the
 * request, and no PII such as `login_hint`, is in the URL.
 *
 * With `par: 'auto'` and an AS that neither offers nor requires PAR, the request goes through the
 * browser instead (RFC 6749 §4.1.1), signed when JAR is on.
 *
 * @module
 */
import type { Request, Response } from 'express';
import { authorizationParameters, authorizationRequestForm } from '../client/authorization-request.js';
import { LOGIN_QUERY_OPTIONS, normalizeLoginOptions, type LoginRequest } from '../client/login-options.js';
import { authorizationMode, parCapabilities } from '../client/capabilities.js';
import type { ParLoginContext } from '../context.js';
import { flowId } from '../observability/debug.js';
import { bindLogin } from './login-binding.js';
import { endpointFor, requireEndpoint, type AuthorizationServerMetadata } from '../client/metadata.js';
import { pushAuthorizationRequest } from '../client/par.js';
import { redirectSeeOther } from '../web/respond.js';
import { safeReturnTo } from '../web/return-to.js';
import { newTransaction, type LoginTransaction } from '../state/transaction.js';
import { ParLoginError } from '../errors.js';

/**
 * The login request `GET /login` takes from its query: the harmless {@link LOGIN_QUERY_OPTIONS}.
 * Like `returnTo`, a repeated or malformed one is ignored (the login goes on without it): a link
 * to the login route must always lead to a login.
 */
function queryLoginRequest(
  query: Request['query'],
  config: ParLoginContext['config'],
  plain: LoginRequest,
): LoginRequest {
  if (!QUERY_OPTION_NAMES.some((name) => name in query)) return plain;
  const options: Record<string, unknown> = {};
  for (const [name, option] of Object.entries(LOGIN_QUERY_OPTIONS)) {
    const value = query[name];
    if (typeof value !== 'string') continue;
    try {
      normalizeLoginOptions({ [option]: value }, config);
      options[option] = value;
    } catch {
      // ignored: see above
    }
  }
  return normalizeLoginOptions(options, config);
}

const QUERY_OPTION_NAMES = Object.keys(LOGIN_QUERY_OPTIONS);

/**
 * Start a login: push (or, with `par: 'auto'` and no PAR at the AS, build a classic request),
 * bind the transaction to the browser and redirect it (303).
 *
 * @throws {ParLoginError} `no_par_endpoint`, `par_required`, `par_error`, `invalid_request`, or a
 *   transport or store code.
 */
export async function startLogin(
  ctx: ParLoginContext,
  req: Request,
  res: Response,
  request: LoginRequest,
  returnTo: string,
  {
    retried = false,
    restart = false,
    silent = false,
  }: { retried?: boolean; restart?: boolean; silent?: boolean } = {},
): Promise<void> {
  const { config } = ctx;
  const { trace } = config;
  res.setHeader('Cache-Control', 'no-store');
  checkLoginRate(ctx, req, res);
  const metadata = await ctx.metadata.get();
  const mode = authorizationMode(config.par, parCapabilities(metadata), config.issuer);
  const dpop = await ctx.dpopKeys.forLogin();
  const draft: LoginTransaction = {
    ...newTransaction(returnTo, 0, ctx.clock.nowMs(), restart),
    request,
    ...(retried ? { retried } : {}),
    ...(silent ? { silent } : {}),
    ...(mode === 'classic' ? { classic: true } : {}),
    ...(dpop?.sealed ? { sealedDpopKey: dpop.sealed } : {}),
  };
  const flow = trace.enabled ? flowId(draft.state) : '';
  const params = authorizationParameters(config, draft, dpop?.jkt);
  const form = await authorizationRequestForm(config, params);
  if (trace.enabled) {
    const common = { flow, auth_method: config.clientAuthMethod, return_to: returnTo };
    if (mode === 'par')
      trace.step('login.push', { ...common, ...pushTrace(ctx, metadata, dpop, retried, restart) });
    else trace.step('login.classic', { ...common, request_object: config.requestObject });
  }
  const { tx, query } =
    mode === 'par'
      ? await push(ctx, metadata, draft, params, form, flow)
      : {
          tx: {
            ...draft,
            expiresAtMs: ctx.clock.nowMs() + config.loginGraceSeconds * 1000 + CLASSIC_EXTRA_MS,
          },
          query: form,
        };
  await bindLogin(ctx, req, res, tx);
  const location = withQuery(metadata.authorization_endpoint, query);
  if (trace.enabled)
    trace.step('login.redirect', {
      flow,
      to: location.slice(0, location.indexOf('?')),
      query: [...query.keys()],
    });
  redirectSeeOther(res, location);
}

/**
 * Count this login start against the instance's caps, before anything reaches the AS or the store;
 * a start beyond them answers `429` with `Retry-After` (RFC 6585 §4).
 *
 * @see https://www.rfc-editor.org/rfc/rfc6585#section-4
 * @throws {ParLoginError} `too_many_logins`.
 */
function checkLoginRate(ctx: ParLoginContext, req: Request, res: Response): void {
  const refused = ctx.loginRate.take(req.ip, ctx.clock.nowMs());
  if (refused === undefined) return;
  const { cap, limitPerMinute, retryAfterSeconds } = refused;
  res.setHeader('Retry-After', String(retryAfterSeconds));
  if (cap === 'client') {
    throw new ParLoginError(
      'too_many_logins',
      `Too many sign-ins were started from this network in the last minute (more than ${limitPerMinute}, ` +
        `maxLoginStartsPerIpPerMinute). Please try again in ${retryAfterSeconds} seconds.`,
      {
        hint:
          "Behind a proxy, set Express's trust proxy so that each user's own address is counted; " +
          'for a large shared network, raise OIDC_MAX_LOGIN_STARTS_PER_IP_PER_MINUTE.',
      },
    );
  }
  throw new ParLoginError(
    'too_many_logins',
    `Too many sign-ins are being started right now (more than ${limitPerMinute} a minute, ` +
      `maxLoginStartsPerMinute). Please try again in ${retryAfterSeconds} seconds.`,
    { hint: 'If this is not a flood, raise OIDC_MAX_LOGIN_STARTS_PER_MINUTE.' },
  );
}

/** How long beyond `loginGraceSeconds` a classic (unpushed) login may take: there is no request_uri to bound it. */
const CLASSIC_EXTRA_MS = 60_000;

function pushTrace(
  ctx: ParLoginContext,
  metadata: AuthorizationServerMetadata,
  dpop: unknown,
  retried: boolean,
  restart: boolean,
): Record<string, unknown> {
  const { config } = ctx;
  return {
    endpoint: endpointFor(metadata, 'pushed_authorization_request_endpoint', config.useMtls),
    request_object: config.requestObject,
    dpop: dpop !== undefined,
    retried,
    restart,
  };
}

/**
 * Push the request (RFC 9126 §2) and give the transaction its lifetime (the `request_uri`'s plus
 * `loginGraceSeconds` for the user at the AS) and the front-channel query: only `client_id` and
 * `request_uri` (RFC 9126 §4), plus the opt-in `frontChannelParams`.
 */
async function push(
  ctx: ParLoginContext,
  metadata: AuthorizationServerMetadata,
  draft: LoginTransaction,
  params: URLSearchParams,
  form: URLSearchParams,
  flow: string,
): Promise<{ tx: LoginTransaction; query: URLSearchParams }> {
  const { config } = ctx;
  const endpoint = requireEndpoint(metadata, 'pushed_authorization_request_endpoint', config.useMtls);
  const pushed = await pushAuthorizationRequest(
    ctx.http,
    ctx.clientAuth,
    endpoint,
    form,
    config.maxRequestUriLifetimeSeconds,
  );
  if (config.trace.enabled) config.trace.step('login.pushed', { flow, expires_in: pushed.expiresIn });
  const now = ctx.clock.nowMs();
  const tx = {
    ...draft,
    expiresAtMs: now + (pushed.expiresIn + config.loginGraceSeconds) * 1000,
    requestUriExpiresAtMs: now + pushed.expiresIn * 1000,
  };
  const query = new URLSearchParams([
    ['client_id', config.clientId],
    ['request_uri', pushed.requestUri],
  ]);
  for (const name of config.frontChannelParams) query.set(name, params.get(name)!);
  return { tx, query };
}

/** `endpoint` with `query` added to the query it may already have (RFC 6749 §3.1 allows one; no fragment). */
function withQuery(endpoint: string, query: URLSearchParams): string {
  const url = new URL(endpoint);
  if (url.search === '') return `${url.href}?${query.toString()}`;
  for (const [name, value] of query) url.searchParams.append(name, value);
  return url.href;
}

/** Build the GET /login handler. */
export function loginRoute(ctx: ParLoginContext) {
  // The login request of a plain `GET /login` (no login option in the query), built once.
  const plain = normalizeLoginOptions({}, ctx.config);
  return async function login(req: Request, res: Response): Promise<void> {
    // Express 5 parses the query string again on every read of req.query: read it once, if at all.
    const query = req.url.includes('?') ? req.query : {};
    const returnTo = safeReturnTo(typeof query.returnTo === 'string' ? query.returnTo : undefined);
    await startLogin(ctx, req, res, queryLoginRequest(query, ctx.config, plain), returnTo);
  };
}
