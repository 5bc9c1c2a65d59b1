/**
 * POST /logout: end the session (OIDC RP-Initiated Logout 1.0 §2–§3).
 *
 * Only same-origin POSTs log out (a cross-site form or image cannot: `Sec-Fetch-Site`, else
 * `Origin`, must prove the request came from the app itself). The local session is destroyed
 * first; then, when the AS has an `end_session_endpoint`, the browser goes there with
 * `id_token_hint`, `client_id` and `post_logout_redirect_uri` (§2); otherwise straight home.
 * GET shows a confirmation button and changes nothing.
 *
 * @module
 */
import type { Request, Response } from 'express';
import type { ParLoginContext } from '../context.js';
import { ParLoginError } from '../errors.js';
import { escapeHtml, page, sendPage } from '../web/html.js';
import { correlationId, logFailure, logWorkedAround } from '../observability/log.js';
import { redirectSeeOther, wantsHtml } from '../web/respond.js';
import { destroySession, sessionUser } from '../session/session.js';
import { forgetTokens } from '../app/forget-tokens.js';
import { isSameOrigin } from '../web/origin.js';
import { triedCookie } from './silent-login.js';
import { restoredIdToken } from '../state/kept-id-token.js';

/** Build the POST /logout handler. */
export function logoutRoute(ctx: ParLoginContext, onDestroyed: (req: Request, res: Response) => void) {
  const { config } = ctx;
  return async function logout(req: Request, res: Response): Promise<void> {
    res.set('Cache-Control', 'no-store');
    if (!isSameOrigin(req, config.appOrigin)) {
      throw new ParLoginError('csrf_rejected', 'Logging out needs a request from this site’s own page.', {
        hint: 'Use the app’s log-out button.',
      });
    }
    const user = sessionUser(req);
    const sessionId = req.sessionID;
    // The session ends even when the shared state fails: without the ID token the AS's end-session
    // endpoint is still called (without `id_token_hint`), and a token record or index entry left
    // behind expires with its lifetime.
    const kept =
      user === undefined
        ? undefined
        : (await cleanup(ctx, req, () => ctx.vault.read(user.tokenRef)))?.idToken;
    const idToken = user !== undefined && kept ? restoredIdToken(kept, user.claims) : undefined;
    if (req.session !== undefined) await destroySession(req);
    if (user !== undefined) await cleanup(ctx, req, () => forgetTokens(ctx, user, sessionId));
    onDestroyed(req, res);
    // A browser that just logged out is not logged back in by a silent attempt.
    if (config.attemptSilentLogin) res.append('Set-Cookie', triedCookie(ctx));
    config.trace.step('logout.local', { was_logged_in: user !== undefined });
    const target = await endSessionUrl(ctx, idToken, req);
    config.trace.step('logout.redirect', { to: target.split('?')[0] });
    if (wantsHtml(req) || !String(req.headers.accept ?? '').includes('json')) redirectSeeOther(res, target);
    else res.json({ redirect: target });
  };
}

/**
 * Run a step of logout that touches only the shared state; when it fails, log a warning naming the
 * cause and go on (`undefined`): the user's logout matters more than the leftovers.
 */
async function cleanup<T>(
  ctx: ParLoginContext,
  req: Request,
  step: () => Promise<T>,
): Promise<T | undefined> {
  try {
    return await step();
  } catch (err) {
    logWorkedAround(ctx.config.logger, err, {
      msg: 'Logout went on without cleaning up the shared state: what is left there expires by itself.',
      code: 'logout_cleanup_failed',
      method: req.method,
      path: req.path,
    });
    return undefined;
  }
}

async function endSessionUrl(
  ctx: ParLoginContext,
  idToken: string | undefined,
  req: Request,
): Promise<string> {
  const { config } = ctx;
  try {
    const endpoint = (await ctx.metadata.get()).end_session_endpoint;
    if (endpoint === undefined) return config.postLogoutRedirectUri;
    const url = new URL(endpoint);
    if (idToken !== undefined) url.searchParams.set('id_token_hint', idToken);
    url.searchParams.set('client_id', config.clientId);
    url.searchParams.set('post_logout_redirect_uri', config.postLogoutRedirectUri);
    return url.href;
  } catch (err) {
    // The local session is gone already; an unreachable AS must not keep the user "logged in".
    logFailure(config.logger, err, correlationId(), req.method, req.path);
    return config.postLogoutRedirectUri;
  }
}

/** Build the GET /logout handler: a confirmation page whose button POSTs. */
export function logoutConfirmRoute(ctx: ParLoginContext) {
  const action = escapeHtml(ctx.config.basePath + ctx.config.paths.logout);
  const html = page(
    'Log out',
    `<h1>Log out?</h1><form method="post" action="${action}"><button type="submit">Log out</button></form>`,
  );
  return function logoutConfirm(_req: Request, res: Response): void {
    sendPage(res, 200, html);
  };
}
