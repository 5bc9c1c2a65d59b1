/**
 * Answering with an error: a small escaped HTML page for browsers, JSON `{error, error_description}`
 * for everything else, `Cache-Control: no-store` on both; one log record per failure.
 *
 * @module
 */
import type { NextFunction, Request, Response } from 'express';
import type { ResolvedConfig } from '../config/resolve-config.js';
import { isParLoginError, type ParLoginError } from '../errors.js';
import { escapeHtml, page, sendPage } from './html.js';
import { correlationId, isMisconfiguration, logFailure } from '../observability/log.js';

const GENERIC_5XX = 'The sign-in service is not available right now. Please try again in a moment.';
const MISCONFIGURED =
  "Sign-in is not set up correctly for this site, so trying again will not help. The site's operators " +
  'can find the cause in their logs under the reference below.';
const RETRY_CODES = new Set([
  'state_missing',
  'state_unknown',
  'state_used',
  'state_expired',
  'authorization_error',
  'iss_missing',
  'iss_mismatch',
  'code_missing',
]);

/** Whether the request prefers an HTML answer (a browser navigation). */
export function wantsHtml(req: Request): boolean {
  const mode = req.headers['sec-fetch-mode'];
  if (mode !== undefined) return mode === 'navigate';
  const accept = req.headers.accept;
  return typeof accept === 'string' && accept.includes('text/html');
}

/**
 * Log `err` and answer it, or hand it to the app's error handler when `renderErrors` is off
 * (the error then carries `correlationId`). Errors that are not ours always go to `next`.
 */
export function handleFailure(
  config: ResolvedConfig,
  err: unknown,
  req: Request,
  res: Response,
  next: NextFunction,
): void {
  const id = correlationId();
  logFailure(config.logger, err, id, req.method, req.path);
  if (!isParLoginError(err) || !config.renderErrors || res.headersSent) {
    if (err !== null && typeof err === 'object') Object.assign(err, { correlationId: id });
    return next(err);
  }
  sendError(config, err, req, res, id);
}

function sendError(
  config: ResolvedConfig,
  err: ParLoginError,
  req: Request,
  res: Response,
  id: string,
): void {
  const misconfigured = isMisconfiguration(err);
  const message = err.expose ? err.message : misconfigured ? MISCONFIGURED : GENERIC_5XX;
  res.status(err.status).set('Cache-Control', 'no-store');
  if (!wantsHtml(req)) {
    res.json({
      error: err.code,
      error_description: message,
      ...(err.expose && err.hint ? { hint: err.hint } : {}),
      correlation_id: id,
    });
    return;
  }
  const asDetail = err.asError
    ? `<p>The sign-in service said: <code>${escapeHtml(err.asError)}</code>` +
      `${err.asErrorDescription && err.expose ? ` — ${escapeHtml(err.asErrorDescription)}` : ''}</p>`
    : '';
  const hint = err.expose && err.hint ? `<p>${escapeHtml(err.hint)}</p>` : '';
  const retry =
    RETRY_CODES.has(err.code) || (!err.expose && !misconfigured)
      ? `<p><a href="${escapeHtml(config.basePath + config.paths.login)}">Start the sign-in again</a></p>`
      : '';
  sendPage(
    res,
    err.status,
    page(
      'Sign-in problem',
      `<h1>Sign-in problem</h1><p>${escapeHtml(message)}</p>${asDetail}${hint}${retry}
<p class="muted">Error <code>${escapeHtml(err.code)}</code> · reference <code>${escapeHtml(id)}</code></p>`,
    ),
  );
}

/**
 * Answer `303 See Other` to `location` with no body: cheaper than `res.redirect`, which negotiates
 * a body format the browser never shows. `location` must already be a safe, encoded URL.
 */
export function redirectSeeOther(res: Response, location: string): void {
  res.statusCode = 303;
  res.setHeader('Location', location);
  res.setHeader('Content-Length', '0');
  res.end();
}
