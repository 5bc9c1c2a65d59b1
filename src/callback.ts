/**
 * GET /callback: finish a login (RFC 6749 §4.1.2, RFC 9207, OIDC Core §3.1.2.5–§3.1.3.7).
 *
 * The transaction is taken by `state` (single use, saved at once); `iss` is checked (RFC 9207 §2.4);
 * an error response is reported; the code is exchanged with the PKCE verifier and the same client
 * authentication; the ID token is validated; the session id is regenerated (session fixation,
 * RFC 9700 §4.3.3 spirit) keeping other tabs' pending logins; then the browser goes to `returnTo`.
 *
 * @module
 */
import type { Request, Response } from 'express';
import type { ParLoginContext } from './context.js';
import { flowId } from './debug.js';
import { ParLoginError } from './errors.js';
import { validateIdToken } from './id-token.js';
import type { AuthorizationServerMetadata } from './metadata.js';
import { redirectSeeOther } from './respond.js';
import { regenerateSession, saveSession, sessionData } from './session.js';
import { exchangeCode } from './token.js';
import { mergeUserinfo } from './userinfo.js';
import { takeBoundLogin, releaseBoundLogin } from './login-binding.js';
import { isPending, takeTransaction, type LoginTransaction, type TransactionStore } from './transaction.js';

const SINGLE_VALUED = ['state', 'code', 'iss', 'error', 'error_description'] as const;
const COOKIE_HINT = 'If this keeps happening, the session cookie did not come back: the app must be reached at its configured APP_BASE_URL ' +
  '(same host and scheme), cookies must be allowed, and an https APP_BASE_URL behind a proxy needs app.set("trust proxy", …).';

/** Read the callback's parameters from the raw query, refusing repeated ones (RFC 6749 §3.1). */
export function callbackParameters(req: Request): Partial<Record<(typeof SINGLE_VALUED)[number], string>> {
  const query = new URLSearchParams(req.originalUrl.includes('?') ? req.originalUrl.slice(req.originalUrl.indexOf('?') + 1) : '');
  const params: Partial<Record<(typeof SINGLE_VALUED)[number], string>> = {};
  for (const name of SINGLE_VALUED) {
    const values = query.getAll(name);
    if (values.length > 1) throw new ParLoginError('invalid_request', `The callback has the parameter "${name}" more than once.`);
    if (values.length === 1) params[name] = values[0]!;
  }
  return params;
}

function takeOrExplain(store: TransactionStore, state: string, hadSession: boolean): LoginTransaction {
  const taken = takeTransaction(store, state);
  if (typeof taken !== 'string') return taken;
  throw takeFailure(taken, hadSession);
}

function takeFailure(taken: 'used' | 'expired' | 'unknown', hadSession: boolean): ParLoginError {
  if (taken === 'used') {
    return new ParLoginError('state_used', 'This sign-in response was already used.', { hint: 'Each sign-in can finish only once. Start a new sign-in.' });
  }
  if (taken === 'expired') {
    return new ParLoginError('state_expired', 'This sign-in took too long and expired.', { hint: 'Start a new sign-in and complete it within the time allowed.' });
  }
  return new ParLoginError('state_unknown', hadSession
    ? 'This sign-in response does not belong to a sign-in started in this browser.'
    : 'This sign-in response arrived without a session: no sign-in was started in this browser, or its cookie was lost.', { hint: COOKIE_HINT });
}

function checkIssuer(metadata: AuthorizationServerMetadata, iss: string | undefined, issuer: string): void {
  if (iss === undefined) {
    if (metadata.authorization_response_iss_parameter_supported === true) {
      throw new ParLoginError('iss_missing', 'The sign-in response has no "iss" although the authorization server always sends it (RFC 9207).');
    }
    return;
  }
  if (iss !== issuer) throw new ParLoginError('iss_mismatch', 'The sign-in response comes from a different issuer than the one this sign-in was sent to (RFC 9207).');
}

/** Build the GET /callback handler. */
export function callbackRoute(ctx: ParLoginContext) {
  const { config } = ctx;
  const { trace } = config;
  return async function callback(req: Request, res: Response): Promise<void> {
    res.set('Cache-Control', 'no-store').set('Referrer-Policy', 'no-referrer');
    const params = callbackParameters(req);
    if (params.state === undefined || params.state === '') {
      throw new ParLoginError('state_missing', 'The sign-in response has no state.', { hint: 'Open the app and sign in from there; this address is only for the authorization server.' });
    }
    const data = sessionData(req);
    const store = data?.tx ?? {};
    // Taken: single use. On failure express-session saves the session with the transaction gone
    // (it is modified); on success the session is regenerated and the old one destroyed.
    const flow = trace.enabled ? flowId(params.state) : '';
    trace.step('callback.received', { flow, params: Object.keys(params), has_session: data !== undefined });
    const bound = isPending(store, params.state) ? undefined : await takeBoundLogin(ctx, req, res, params.state);
    const tx = bound ?? takeOrExplain(store, params.state, data !== undefined);
    if (bound === undefined) await releaseBoundLogin(ctx, req, res, params.state);
    else if (bound.expiresAt <= Date.now()) throw takeFailure('expired', true);
    trace.step('callback.transaction', { flow, bound: bound !== undefined });

    const metadata = await ctx.metadata.get();
    checkIssuer(metadata, params.iss, config.issuer);
    if (params.error !== undefined) {
      throw new ParLoginError('authorization_error', `The sign-in did not succeed (${params.error}).`, {
        asError: params.error.slice(0, 128),
        ...(params.error_description ? { asErrorDescription: params.error_description.slice(0, 512) } : {}),
      });
    }
    if (params.code === undefined || params.code === '') throw new ParLoginError('code_missing', 'The sign-in response has neither a code nor an error.');

    const tokens = await exchangeCode(ctx.http, ctx.clientAuth, metadata.token_endpoint, {
      code: params.code, codeVerifier: tx.codeVerifier, redirectUri: config.redirectUri, clientId: config.clientId,
    });
    trace.step('callback.tokens', { flow, token_type: tokens.tokenType, has_refresh_token: tokens.refreshToken !== undefined, expires_at: tokens.expiresAt });
    const validated = await validateIdToken(tokens.idToken, ctx.jwks, {
      issuer: config.issuer, clientId: config.clientId, nonce: tx.nonce, clockTolerance: config.clockTolerance,
    });
    const claims = config.fetchUserinfo && metadata.userinfo_endpoint !== undefined
      ? await mergeUserinfo(ctx.http, metadata.userinfo_endpoint, tokens, validated)
      : validated;

    trace.step('callback.id_token', { flow, valid: true, userinfo: config.fetchUserinfo });
    const tokenRef = ctx.vault.newReference();
    await ctx.vault.write(tokenRef, tokens, config.sessionAbsoluteTimeout);
    await regenerateSession(req);
    const fresh = sessionData(req, true);
    if (data?.tx !== undefined) fresh.tx = data.tx; // other tabs' pending logins, and the used-state record
    fresh.user = { claims, tokenRef, loggedInAt: Math.floor(Date.now() / 1000) };
    await Promise.all([saveSession(req), ctx.sessionIndex.add(claims, { sessionId: req.sessionID, tokenRef }, config.sessionAbsoluteTimeout)]);
    trace.step('callback.done', { flow, session: 'regenerated', return_to: tx.returnTo });
    redirectSeeOther(res, config.baseUrl + tx.returnTo); // the configured URL, whichever instance or proxy path served the callback
  };
}
