/**
 * GET /login: start a login with a pushed authorization request (RFC 9126 §2, §4).
 *
 * A fresh transaction (state, nonce, PKCE S256 verifier) is created; the authorization request is
 * pushed over the back channel; only then is the transaction written to the session, which is
 * saved before the browser is sent to the authorization endpoint with **only** `client_id` and
 * `request_uri` (RFC 9126 §4). Nothing of the request, and no PII such as `login_hint`, is in the URL.
 *
 * @module
 */
import type { Request, Response } from 'express';
import type { ParLoginContext } from './context.js';
import { flowId } from './debug.js';
import { ParLoginError } from './errors.js';
import { bindFirstLogin } from './login-binding.js';
import { pushAuthorizationRequest } from './par.js';
import { redirectSeeOther } from './respond.js';
import { safeReturnTo } from './return-to.js';
import { saveSession, sessionData } from './session.js';
import { addTransaction, newTransaction, s256, type LoginTransaction } from './transaction.js';

/** Hooks a login route accepts from the router. */
export interface LoginRouteHooks {
  /** Called before the session is saved, with the new transaction; the router sets an anonymous session's lifetime. */
  beforeSave?(req: Request, tx: LoginTransaction): void;
}

/** The authorization request parameters of a transaction (OIDC Core §3.1.2.1, RFC 7636 §4.3). */
export function authorizationParameters(ctx: ParLoginContext, tx: LoginTransaction): URLSearchParams {
  const { config } = ctx;
  const params = new URLSearchParams({
    response_type: 'code',
    client_id: config.clientId,
    redirect_uri: config.redirectUri,
    scope: config.scope,
    state: tx.state,
    nonce: tx.nonce,
    code_challenge: s256(tx.codeVerifier),
    code_challenge_method: 'S256',
  });
  for (const [name, value] of Object.entries(config.authorizationParams)) params.set(name, value);
  return params;
}

/** Build the GET /login handler. */
export function loginRoute(ctx: ParLoginContext, hooks: LoginRouteHooks = {}) {
  const { config } = ctx;
  const { trace } = config;
  return async function login(req: Request, res: Response): Promise<void> {
    res.set('Cache-Control', 'no-store');
    const metadata = await ctx.metadata.get();
    const endpoint = metadata.pushed_authorization_request_endpoint;
    if (endpoint === undefined) {
      throw new ParLoginError('no_par_endpoint', `The authorization server ${config.issuer} does not publish a pushed_authorization_request_endpoint.`, {
        hint: 'This middleware logs in only with PAR (RFC 9126): enable PAR at the AS.',
      });
    }
    const returnTo = safeReturnTo(typeof req.query.returnTo === 'string' ? req.query.returnTo : undefined);
    const draft = newTransaction(returnTo, 0);
    const flow = trace.enabled ? flowId(draft.state) : '';
    trace.step('login.push', { flow, endpoint, auth_method: config.clientAuthMethod, return_to: returnTo });
    const pushed = await pushAuthorizationRequest(ctx.http, ctx.clientAuth, endpoint, authorizationParameters(ctx, draft));
    trace.step('login.pushed', { flow, expires_in: pushed.expiresIn });
    // The login may take as long as the request_uri lives, plus a grace for the user at the AS.
    const tx = { ...draft, expiresAt: Date.now() + (pushed.expiresIn + config.loginGrace) * 1000 };

    const first = sessionData(req) === undefined; // a new session: other tabs may be creating theirs now
    const data = sessionData(req, true);
    addTransaction((data.tx ??= {}), tx, config.maxPendingLogins);
    hooks.beforeSave?.(req, tx);
    await Promise.all([saveSession(req), first ? bindFirstLogin(ctx, res, tx) : undefined]);

    const target = new URL(metadata.authorization_endpoint);
    target.searchParams.set('client_id', config.clientId);
    target.searchParams.set('request_uri', pushed.requestUri);
    trace.step('login.redirect', { flow, to: `${target.origin}${target.pathname}`, query: [...target.searchParams.keys()] });
    redirectSeeOther(res, target.href);
  };
}
