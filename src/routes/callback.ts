/**
 * GET /callback: finish a login (RFC 6749 §4.1.2, RFC 9207, OIDC Core §3.1.2.5–§3.1.3.7).
 *
 * The response is read and checked (client/authorization-response.ts); the transaction is taken by
 * `state` (single use, bound to this browser: login-binding.ts); `iss` is checked (RFC 9207 §2.4);
 * an error response is reported — except an expired or unknown `request_uri`, which starts a fresh
 * push once, transparently (RFC 9126 §4); the code is exchanged with the PKCE verifier, the same
 * client authentication and, with DPoP, a proof (RFC 9449 §5); the ID token is validated
 * (`auth_time` too when `max_age` was asked); the app's `afterCallback` hook may refuse the login or
 * shape its claims (app/after-callback.ts); a session the browser brought gets a new id (session
 * fixation, RFC 9700 §4.3.3 spirit), a browser that brought none gets a new session (own-session.ts);
 * then the browser goes to `returnTo`. Other tabs' pending logins are not in the session: nothing of
 * theirs is lost.
 *
 * @module
 */
import type { Request, Response } from 'express';
import { runAfterCallback } from '../app/after-callback.js';
import {
  authorizationError,
  checkIssuer,
  isStatelessExpiry,
  parseAuthorizationResponse,
  requireState,
  validateAuthorizationResponse,
  type AuthorizationResponse,
} from '../client/authorization-response.js';
import type { DpopKey } from '../client/dpop.js';
import { validateIdToken, type IdTokenClaims } from '../client/id-token.js';
import { effectiveMaxAge, requestedAcr } from '../client/login-options.js';
import { endpointFor, type AuthorizationServerMetadata } from '../client/metadata.js';
import { exchangeCode, type TokenSet } from '../client/token.js';
import { mergeUserinfo } from '../client/userinfo.js';
import type { ParLoginContext } from '../context.js';
import { ParLoginError } from '../errors.js';
import { flowId } from '../observability/debug.js';
import {
  regenerateSession,
  saveSession,
  sessionData,
  type SessionUser,
  type StartedSession,
} from '../session/session.js';
import { forgetTokens } from '../app/forget-tokens.js';
import { RESTART_STATE_PREFIX, type LoginTransaction, type TakeFailure } from '../state/transaction.js';
import { redirectSeeOther, wantsHtml } from '../web/respond.js';
import { keptIdToken } from '../state/kept-id-token.js';
import { takeBoundLogin, takeLikelyBoundLogin } from './login-binding.js';
import { startLogin } from './login.js';
import { endsSilently } from './silent-login.js';

const COOKIE_HINT =
  'If this keeps happening, the session cookie did not come back: ' +
  'the app must be reached at its configured APP_BASE_URL (same host and scheme), cookies must be allowed, ' +
  'and an https APP_BASE_URL behind a proxy needs app.set("trust proxy", …).';

function explainFailedTake(taken: LoginTransaction | TakeFailure, hadSession: boolean): LoginTransaction {
  if (typeof taken !== 'string') return taken;
  if (taken === 'used') {
    throw new ParLoginError('state_used', 'This sign-in response was already used.', {
      hint: 'Each sign-in can finish only once. Start a new sign-in.',
    });
  }
  if (taken === 'expired') {
    throw new ParLoginError('state_expired', 'This sign-in took too long and expired.', {
      hint: 'Start a new sign-in and complete it within the time allowed.',
    });
  }
  throw new ParLoginError(
    'state_unknown',
    hadSession
      ? 'This sign-in response does not belong to a sign-in started in this browser.'
      : 'This sign-in response arrived without a session: ' +
          'no sign-in was started in this browser, or its cookie was lost.',
    { hint: COOKIE_HINT },
  );
}

/**
 * `max_age` was asked: the ID token must say when the user authenticated, recently enough
 * (OIDC Core §3.1.3.7 item 13).
 */
function checkAuthTime(
  claims: IdTokenClaims,
  maxAge: number | undefined,
  clockToleranceSeconds: number,
  nowSeconds: number,
): void {
  if (maxAge === undefined) return;
  const authTime = claims.auth_time;
  if (typeof authTime !== 'number' || !Number.isFinite(authTime)) {
    throw new ParLoginError(
      'id_token_invalid',
      'The ID token is invalid: max_age was requested but it has no auth_time.',
    );
  }
  if (authTime + maxAge + clockToleranceSeconds < nowSeconds) {
    throw new ParLoginError(
      'id_token_invalid',
      'The ID token is invalid: the user authenticated longer ago than max_age allows.',
    );
  }
}

/** The DPoP key the login's tokens are to be bound to; a sealed key nothing opens ends the login. */
async function dpopKeyOf(ctx: ParLoginContext, tx: LoginTransaction): Promise<DpopKey | undefined> {
  const key = await ctx.dpopKeys.open(tx.sealedDpopKey);
  if (key === undefined && tx.sealedDpopKey !== undefined) {
    throw new ParLoginError('state_expired', 'The pending login can no longer be opened.', {
      hint: 'SESSION_ENCRYPTION_KEY changed during the login. Log in again.',
    });
  }
  return key;
}

function sessionUserOf(
  nowSeconds: number,
  tx: LoginTransaction,
  claims: IdTokenClaims,
  tokens: TokenSet,
  tokenRef: string,
): SessionUser {
  const requested = tx.request?.authorizationDetails;
  return {
    claims,
    tokenRef,
    loggedInAt: nowSeconds,
    tokenType: tokens.tokenType,
    ...(tx.sealedDpopKey !== undefined ? { sealedDpopKey: tx.sealedDpopKey } : {}),
    ...(requested !== undefined || tokens.authorizationDetails !== undefined
      ? {
          authorizationDetails: {
            requested: requested ?? [],
            ...(tokens.authorizationDetails ? { granted: tokens.authorizationDetails } : {}),
          },
        }
      : {}),
  };
}

/** Build the GET /callback handler. */
export function callbackRoute(ctx: ParLoginContext) {
  const { config } = ctx;
  const { trace } = config;
  return async function callback(req: Request, res: Response): Promise<void> {
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Referrer-Policy', 'no-referrer');
    const url = req.originalUrl;
    const response = parseAuthorizationResponse(url.includes('?') ? url.slice(url.indexOf('?') + 1) : '');
    if (isStatelessExpiry(response)) return answerStatelessExpiry(ctx, req, res, response);
    requireState(response);
    const flow = trace.enabled ? flowId(response.state) : '';
    if (trace.enabled) {
      const hasSession = sessionData(req) !== undefined;
      trace.step('callback.received', { flow, params: Object.keys(response), has_session: hasSession });
    }
    const tx = await takeLogin(ctx, req, res, response, flow);
    if (tx === undefined) return; // a fresh login was started instead
    if (trace.enabled) trace.step('callback.transaction', { flow });
    const metadata = await ctx.metadata.get();
    let outcome: ReturnType<typeof validateAuthorizationResponse>;
    try {
      outcome = validateAuthorizationResponse(response, {
        state: tx.state,
        issuer: config.issuer,
        issRequired: issRequired(ctx, metadata, config.requireIss),
        classic: tx.classic === true,
      });
    } catch (err) {
      // A silent attempt the AS declined: the user goes on to the page, anonymous (silent-login.ts).
      if (endsSilently(ctx, tx, err)) return redirectSeeOther(res, returnUrl(ctx, tx));
      throw err;
    }
    if ('requestUriExpired' in outcome) return retryOrFail(ctx, req, res, tx, outcome.error);
    const { tokens, claims } = await redeemCode(ctx, tx, outcome.code, metadata, flow);
    // The app's hook runs before anything is kept: a refusal leaves no tokens and no session.
    const kept = await runAfterCallback(config.afterCallback, req, claims, tokens);
    const session = await startLoggedInSession(ctx, req, res, tx, tokens, kept);
    if (trace.enabled) trace.step('callback.done', { flow, session, return_to: tx.returnTo });
    redirectSeeOther(res, returnUrl(ctx, tx));
  };
}

/**
 * Where the login sends the browser: its `returnTo` under the configured URL (or this login's own
 * redirect origin), whichever instance or proxy path served the callback.
 */
function returnUrl(ctx: ParLoginContext, tx: LoginTransaction): string {
  const origin = tx.request?.redirectUri
    ? new URL(tx.request.redirectUri).origin + ctx.config.basePath
    : ctx.config.baseUrl;
  return origin + tx.returnTo;
}

/** RFC 9207 §3: `iss` is required when configured so, or when the AS says it sends it. */
function issRequired(
  ctx: ParLoginContext,
  metadata: AuthorizationServerMetadata,
  configured: boolean,
): boolean {
  return configured || metadata.authorization_response_iss_parameter_supported === true;
}

/**
 * An expired `request_uri` reported without `state` (the AS no longer knows the request, so it
 * cannot send the state back): the newest pending login of this browser is the one.
 */
async function answerStatelessExpiry(
  ctx: ParLoginContext,
  req: Request,
  res: Response,
  response: AuthorizationResponse,
): Promise<void> {
  const { trace } = ctx.config;
  const metadata = await ctx.metadata.get();
  // RFC 9207: `iss` is checked here as for every response, required under FAPI 2.0 (requireIss).
  checkIssuer(response.iss, ctx.config.issuer, issRequired(ctx, metadata, ctx.config.requireIss));
  const tx = await takeLikelyBoundLogin(ctx, req, res);
  trace.step('callback.request_uri_expired', {
    flow: tx && trace.enabled ? flowId(tx.state) : '',
    has_session: sessionData(req) !== undefined,
  });
  // Without `state` nothing ties the response to this browser's login: none of its words are shown.
  return retryOrFail(ctx, req, res, tx, authorizationError(response, tx?.classic === true, false));
}

/** Push the same request again, once per login, and send the user back to the AS; else fail with `error`. */
async function retryOrFail(
  ctx: ParLoginContext,
  req: Request,
  res: Response,
  pending: LoginTransaction | undefined,
  error: ParLoginError,
): Promise<void> {
  if (pending === undefined || pending.retried) throw error;
  ctx.config.logger.warn({
    msg: 'The request_uri expired or was unknown at the AS: starting a fresh push once.',
    code: 'request_uri_expired',
    path: req.path,
  });
  await startLogin(ctx, req, res, pending.request ?? { params: [] }, pending.returnTo, {
    retried: true,
    silent: pending.silent === true,
  });
}

/**
 * Take the pending login named by `state` (single use, whatever happens next). A stale response
 * reaching an anonymous browser starts a fresh login instead (then `undefined`).
 */
async function takeLogin(
  ctx: ParLoginContext,
  req: Request,
  res: Response,
  response: AuthorizationResponse & { state: string },
  flow: string,
): Promise<LoginTransaction | undefined> {
  const hadSession = sessionData(req) !== undefined;
  try {
    return explainFailedTake(await takeBoundLogin(ctx, req, res, response.state), hadSession);
  } catch (err) {
    if (!restartable(ctx, req, response, err)) throw err;
    // An anonymous user with a stale sign-in response just wants to sign in.
    ctx.config.logger.warn({
      msg: 'A stale sign-in response reached the callback of an anonymous browser: starting a fresh login once.',
      code: 'login_restarted',
      cause: err.code,
      path: req.path,
    });
    ctx.config.trace.step('callback.restart', { flow, cause: err.code });
    await startLogin(ctx, req, res, { params: [] }, '/', { restart: true });
    return undefined;
  }
}

/**
 * Whether a failed take of the transaction is one to answer with a fresh login: the state is
 * unknown or expired, the browser is anonymous and navigating, the AS sent a code (not an error
 * the user should see), and this is not already a restarted login.
 */
function restartable(
  ctx: ParLoginContext,
  req: Request,
  response: AuthorizationResponse & { state: string },
  err: unknown,
): err is ParLoginError {
  return (
    ctx.config.restartStaleLogins &&
    err instanceof ParLoginError &&
    (err.code === 'state_unknown' || err.code === 'state_expired') &&
    sessionData(req)?.user === undefined &&
    wantsHtml(req) && // routes: GET only
    response.error === undefined &&
    (response.code ?? '') !== '' &&
    !response.state.startsWith(RESTART_STATE_PREFIX)
  );
}

/**
 * Exchange the code (RFC 6749 §4.1.3, RFC 7636 §4.5, with a DPoP proof: RFC 9449 §5), validate
 * the ID token (OIDC Core §3.1.3.7) and `auth_time`, and merge userinfo when configured.
 */
async function redeemCode(
  ctx: ParLoginContext,
  tx: LoginTransaction,
  code: string,
  metadata: AuthorizationServerMetadata,
  flow: string,
): Promise<{ tokens: TokenSet; claims: IdTokenClaims }> {
  const { config } = ctx;
  const { trace } = config;
  const dpopKey = await dpopKeyOf(ctx, tx);
  const tokens = await exchangeCode(
    ctx.http,
    ctx.clientAuth,
    endpointFor(metadata, 'token_endpoint', config.useMtls),
    {
      code,
      codeVerifier: tx.codeVerifier,
      redirectUri: tx.request?.redirectUri ?? config.redirectUri,
      clientId: config.clientId,
      ...(dpopKey ? { dpopKey, requireDpopBinding: config.profile === 'fapi2' } : {}),
    },
  );
  if (trace.enabled) {
    const { tokenType, refreshToken, expiresAtSeconds } = tokens;
    trace.step('callback.tokens', {
      flow,
      token_type: tokenType,
      has_refresh_token: refreshToken !== undefined,
      expires_at: expiresAtSeconds,
    });
  }
  const validated = await validateIdToken(tokens.idToken, ctx.jwks, {
    issuer: config.issuer,
    clientId: config.clientId,
    nonce: tx.nonce,
    clockToleranceSeconds: config.clockToleranceSeconds,
    algorithms: config.idTokenAlgorithms,
    ...(config.checkAcr ? { acr: requestedAcr(tx.request, config) } : {}),
  });
  checkAuthTime(
    validated,
    effectiveMaxAge(tx.request, config),
    config.clockToleranceSeconds,
    ctx.clock.nowSeconds(),
  );
  const userinfoEndpoint = config.fetchUserinfo
    ? endpointFor(metadata, 'userinfo_endpoint', config.useMtls)
    : undefined;
  const claims =
    userinfoEndpoint !== undefined && metadata.userinfo_endpoint !== undefined
      ? await mergeUserinfo(ctx.http, userinfoEndpoint, tokens, validated, dpopKey)
      : validated;
  if (trace.enabled) trace.step('callback.id_token', { flow, valid: true, userinfo: config.fetchUserinfo });
  return { tokens, claims };
}

/**
 * Keep the tokens in the vault and start the logged-in session: a new id for a session the
 * browser brought (session fixation, RFC 9700 §4.3.3 spirit), a new session for a browser without
 * one; indexed for back-channel logout before it is written, so that a logged-in session always
 * has its index entries. When a step fails, what the earlier ones wrote is removed: no session, no
 * cookie, no orphan record; the failure answers 503. Says which kind of session it was.
 */
async function startLoggedInSession(
  ctx: ParLoginContext,
  req: Request,
  res: Response,
  tx: LoginTransaction,
  tokens: TokenSet,
  claims: IdTokenClaims,
): Promise<'new' | 'regenerated'> {
  const { config } = ctx;
  const ttlSeconds = config.sessionAbsoluteTimeoutSeconds;
  const tokenRef = ctx.vault.newReference();
  // The ID token without the payload the session's claims repeat (state/kept-id-token.ts).
  await ctx.vault.write(tokenRef, { ...tokens, idToken: keptIdToken(tokens.idToken, claims) }, ttlSeconds);
  const user = sessionUserOf(ctx.clock.nowSeconds(), tx, claims, tokens, tokenRef);
  const start = req.session === undefined ? ctx.requestState(req).startSession : undefined;
  let session: StartedSession | undefined;
  try {
    if (start !== undefined) {
      // No session came with the request: the new one's id was never known to anyone (nothing to fix).
      session = start(res, { user });
    } else {
      await regenerateSession(req);
      sessionData(req, true).user = user;
      session = { id: req.sessionID, save: () => saveSession(req) };
    }
    await ctx.sessionIndex.add(claims, { sessionId: session.id, tokenRef }, ttlSeconds);
    await session.save();
  } catch (err) {
    const data = sessionData(req);
    if (data !== undefined) delete data.user; // nothing logged in is saved at the end of the response
    // Best effort: what cannot be removed now expires with its lifetime.
    await forgetTokens(ctx, user, session?.id ?? '').catch(() => undefined);
    throw err;
  }
  return start === undefined ? 'regenerated' : 'new';
}
