/**
 * GET /callback: finish a login (RFC 6749 §4.1.2, RFC 9207, OIDC Core §3.1.2.5–§3.1.3.7).
 *
 * The transaction is taken by `state` (single use, bound to this browser: login-binding.ts); `iss`
 * is checked (RFC 9207 §2.4);
 * an error response is reported — except an expired or unknown `request_uri`, which starts a fresh
 * push once, transparently (RFC 9126 §4); the code is exchanged with the PKCE verifier, the same
 * client authentication and, with DPoP, a proof (RFC 9449 §5); the ID token is validated
 * (`auth_time` too when `max_age` was asked); a session the browser brought gets a new id (session
 * fixation, RFC 9700 §4.3.3 spirit), a browser that brought none gets a new session (own-session.ts);
 * then the browser goes to `returnTo`. Other tabs' pending logins are not in the session: nothing of
 * theirs is lost.
 *
 * @module
 */
import type { Request, Response } from 'express';
import { effectiveMaxAge } from '../client/login-options.js';
import type { ParLoginContext } from '../context.js';
import { flowId } from '../observability/debug.js';
import type { DpopKey } from '../client/dpop.js';
import { ParLoginError } from '../errors.js';
import { validateIdToken, type IdTokenClaims } from '../client/id-token.js';
import { startLogin } from './login.js';
import { endpointFor, type AuthorizationServerMetadata } from '../client/metadata.js';
import { takeBoundLogin, takeLikelyBoundLogin } from './login-binding.js';
import { redirectSeeOther, wantsHtml } from '../web/respond.js';
import { regenerateSession, saveSession, sessionData, type SessionUser } from '../session/session.js';
import { exchangeCode, type TokenSet } from '../client/token.js';
import { mergeUserinfo } from '../client/userinfo.js';
import { RESTART_STATE_PREFIX, type LoginTransaction, type TakeFailure } from '../state/transaction.js';

const SINGLE_VALUED = ['state', 'code', 'iss', 'error', 'error_description'] as const;
const COOKIE_HINT =
  'If this keeps happening, the session cookie did not come back: the app must be reached at its configured APP_BASE_URL ' +
  '(same host and scheme), cookies must be allowed, and an https APP_BASE_URL behind a proxy needs app.set("trust proxy", …).';
/** Errors meaning the `request_uri` expired or is unknown to the AS (RFC 9126 §4; oidc-provider sends the first). */
const EXPIRED_REQUEST_URI = new Set(['invalid_request_uri']);
const PAR_DEMANDED = /pushed|\bPAR\b|request_uri/i;

type CallbackParams = Partial<Record<(typeof SINGLE_VALUED)[number], string>>;

/** Read the callback's parameters from the raw query, refusing repeated ones (RFC 6749 §3.1). */
export function callbackParameters(req: Request): CallbackParams {
  const query = new URLSearchParams(
    req.originalUrl.includes('?') ? req.originalUrl.slice(req.originalUrl.indexOf('?') + 1) : '',
  );
  const params: CallbackParams = {};
  for (const name of SINGLE_VALUED) {
    const values = query.getAll(name);
    if (values.length > 1)
      throw new ParLoginError('invalid_request', `The callback has the parameter "${name}" more than once.`);
    if (values.length === 1) params[name] = values[0]!;
  }
  return params;
}

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
      : 'This sign-in response arrived without a session: no sign-in was started in this browser, or its cookie was lost.',
    { hint: COOKIE_HINT },
  );
}

function checkIssuer(
  metadata: AuthorizationServerMetadata,
  iss: string | undefined,
  issuer: string,
  required: boolean,
): void {
  if (iss === undefined) {
    if (required || metadata.authorization_response_iss_parameter_supported === true) {
      throw new ParLoginError(
        'iss_missing',
        'The sign-in response has no "iss" although the authorization server must send it (RFC 9207).',
      );
    }
    return;
  }
  if (iss !== issuer)
    throw new ParLoginError(
      'iss_mismatch',
      'The sign-in response comes from a different issuer than the one this sign-in was sent to (RFC 9207).',
    );
}

function authorizationError(params: CallbackParams, tx: LoginTransaction | undefined): ParLoginError {
  const error = params.error!;
  const details = {
    asError: error.slice(0, 128),
    ...(params.error_description ? { asErrorDescription: params.error_description.slice(0, 512) } : {}),
  };
  if (tx?.classic && error === 'invalid_request' && PAR_DEMANDED.test(params.error_description ?? '')) {
    return new ParLoginError(
      'par_required',
      'The authorization server demands pushed authorization requests, but it does not publish a PAR endpoint.',
      details,
    );
  }
  if (EXPIRED_REQUEST_URI.has(error)) {
    return new ParLoginError('authorization_error', 'The sign-in request expired at the sign-in service.', {
      ...details,
      hint: 'Start a new sign-in and complete it within the time allowed.',
    });
  }
  return new ParLoginError('authorization_error', `The sign-in did not succeed (${error}).`, details);
}

/** `max_age` was asked: the ID token must say when the user authenticated, recently enough (OIDC Core §3.1.3.7 item 13). */
function checkAuthTime(claims: IdTokenClaims, maxAge: number | undefined, clockTolerance: number): void {
  if (maxAge === undefined) return;
  const authTime = claims.auth_time;
  if (typeof authTime !== 'number' || !Number.isFinite(authTime)) {
    throw new ParLoginError(
      'id_token_invalid',
      'The ID token is invalid: max_age was requested but it has no auth_time.',
    );
  }
  if (authTime + maxAge + clockTolerance < Math.floor(Date.now() / 1000)) {
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
  tx: LoginTransaction,
  claims: IdTokenClaims,
  tokens: TokenSet,
  tokenRef: string,
): SessionUser {
  const requested = tx.request?.authorizationDetails;
  return {
    claims,
    tokenRef,
    loggedInAt: Math.floor(Date.now() / 1000),
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
    const params = callbackParameters(req);
    const data = sessionData(req);
    if (params.error !== undefined && EXPIRED_REQUEST_URI.has(params.error) && (params.state ?? '') === '') {
      // The AS no longer knows the request, so it cannot send the state back: the newest pending login is the one.
      const metadata = await ctx.metadata.get();
      checkIssuer(metadata, params.iss, config.issuer, false);
      const tx = await takeLikelyBoundLogin(ctx, req, res);
      trace.step('callback.request_uri_expired', {
        flow: tx && trace.enabled ? flowId(tx.state) : '',
        has_session: data !== undefined,
      });
      return retryOrFail(tx);
    }
    if (params.state === undefined || params.state === '') {
      throw new ParLoginError('state_missing', 'The sign-in response has no state.', {
        hint: 'Open the app and sign in from there; this address is only for the authorization server.',
      });
    }
    // Taken: single use, whatever happens next.
    const flow = trace.enabled ? flowId(params.state) : '';
    if (trace.enabled)
      trace.step('callback.received', { flow, params: Object.keys(params), has_session: data !== undefined });
    let tx: LoginTransaction;
    try {
      tx = explainFailedTake(await takeBoundLogin(ctx, req, res, params.state), data !== undefined);
    } catch (err) {
      if (!restartable(err)) throw err;
      // USERS.md #1: an anonymous user with a stale sign-in response just wants to sign in.
      config.logger.warn({
        msg: 'A stale sign-in response reached the callback of an anonymous browser: starting a fresh login once.',
        code: 'login_restarted',
        cause: (err as ParLoginError).code,
        path: req.path,
      });
      trace.step('callback.restart', { flow, cause: (err as ParLoginError).code });
      return startLogin(ctx, req, res, { params: [] }, '/', { restart: true });
    }
    if (trace.enabled) trace.step('callback.transaction', { flow });

    const metadata = await ctx.metadata.get();
    checkIssuer(metadata, params.iss, config.issuer, config.requireIss);
    if (params.error !== undefined)
      return EXPIRED_REQUEST_URI.has(params.error)
        ? retryOrFail(tx)
        : Promise.reject(authorizationError(params, tx));
    if (params.code === undefined || params.code === '')
      throw new ParLoginError('code_missing', 'The sign-in response has neither a code nor an error.');

    const dpopKey = await dpopKeyOf(ctx, tx);
    const redirectUri = tx.request?.redirectUri ?? config.redirectUri;
    const tokens = await exchangeCode(
      ctx.http,
      ctx.clientAuth,
      endpointFor(metadata, 'token_endpoint', config.useMtls)!,
      {
        code: params.code,
        codeVerifier: tx.codeVerifier,
        redirectUri,
        clientId: config.clientId,
        ...(dpopKey ? { dpopKey, requireDpopBinding: config.profile === 'fapi2' } : {}),
      },
    );
    if (trace.enabled)
      trace.step('callback.tokens', {
        flow,
        token_type: tokens.tokenType,
        has_refresh_token: tokens.refreshToken !== undefined,
        expires_at: tokens.expiresAt,
      });
    const validated = await validateIdToken(tokens.idToken, ctx.jwks, {
      issuer: config.issuer,
      clientId: config.clientId,
      nonce: tx.nonce,
      clockTolerance: config.clockTolerance,
      algorithms: config.idTokenAlgorithms,
    });
    checkAuthTime(validated, effectiveMaxAge(tx.request, config), config.clockTolerance);
    const claims =
      config.fetchUserinfo && metadata.userinfo_endpoint !== undefined
        ? await mergeUserinfo(
            ctx.http,
            endpointFor(metadata, 'userinfo_endpoint', config.useMtls)!,
            tokens,
            validated,
            dpopKey,
          )
        : validated;

    if (trace.enabled) trace.step('callback.id_token', { flow, valid: true, userinfo: config.fetchUserinfo });
    const tokenRef = ctx.vault.newReference();
    await ctx.vault.write(tokenRef, tokens, config.sessionAbsoluteTimeout);
    const user = sessionUserOf(tx, claims, tokens, tokenRef);
    const start = req.session === undefined ? ctx.requestState(req).startSession : undefined;
    let session: { readonly id: string; readonly saved: Promise<void> };
    if (start !== undefined) {
      // No session came with the request: the new one's id was never known to anyone (nothing to fix).
      session = start(res, { user });
    } else {
      await regenerateSession(req); // session fixation defence
      sessionData(req, true).user = user;
      session = { id: req.sessionID, saved: saveSession(req) };
    }
    await Promise.all([
      session.saved,
      ctx.sessionIndex.add(claims, { sessionId: session.id, tokenRef }, config.sessionAbsoluteTimeout),
    ]);
    if (trace.enabled)
      trace.step('callback.done', {
        flow,
        session: start === undefined ? 'regenerated' : 'new',
        return_to: tx.returnTo,
      });
    // The configured URL (or this login's own redirect origin), whichever instance or proxy path served the callback.
    const origin = tx.request?.redirectUri
      ? new URL(tx.request.redirectUri).origin + config.basePath
      : config.baseUrl;
    redirectSeeOther(res, origin + tx.returnTo);

    /**
     * Whether a failed take of the transaction is one to answer with a fresh login: the state is
     * unknown or expired, the browser is anonymous and navigating, the AS sent a code (not an
     * error the user should see), and this is not already a restarted login.
     */
    function restartable(err: unknown): boolean {
      return (
        config.restartStaleLogins &&
        err instanceof ParLoginError &&
        (err.code === 'state_unknown' || err.code === 'state_expired') &&
        sessionData(req)?.user === undefined &&
        wantsHtml(req) && // routes: GET only
        params.error === undefined &&
        (params.code ?? '') !== '' &&
        !params.state!.startsWith(RESTART_STATE_PREFIX)
      );
    }

    async function retryOrFail(pending: LoginTransaction | undefined): Promise<void> {
      if (pending === undefined || pending.retried) throw authorizationError(params, pending);
      // Once per login: push the same request again and send the user back to the AS.
      config.logger.warn({
        msg: 'The request_uri expired or was unknown at the AS: starting a fresh push once.',
        code: 'request_uri_expired',
        path: req.path,
      });
      await startLogin(ctx, req, res, pending.request ?? { params: [] }, pending.returnTo, { retried: true });
    }
  };
}
