/**
 * Is the app behind a TLS-terminating proxy that Express does not trust? With an https `baseUrl`,
 * a request that Express sees as plain http (`req.secure` false) means either that the app is
 * reached without TLS, or, when the request says `X-Forwarded-Proto: https`, that Express was not
 * told to trust the proxy (`app.set('trust proxy', …)`): `req.secure`, `req.protocol` and `req.ip`
 * are then the proxy's view, and an app's own express-session refuses to send its `Secure` cookie.
 * The check logs an error that names the fix, at most once a minute per instance.
 *
 * @see https://expressjs.com/en/guide/behind-proxies.html
 * @module
 */
import type { Request } from 'express';
import type { ResolvedConfig } from '../config/resolve-config.js';
import type { Clock } from '../clock.js';
import { emit } from '../observability/log.js';

/** The shortest time between two records of this check. */
const REPEAT_MS = 60_000;

/** The fix, for a request that a proxy forwarded as https. */
const UNTRUSTED_PROXY =
  'A request arrived with X-Forwarded-Proto: https, but Express does not trust the proxy that sent it, so ' +
  "it sees plain http and the proxy's address as the client's. Tell Express which proxies to trust before " +
  "mounting parLogin(): app.set('trust proxy', 1) for one proxy in front of the app (or its address, e.g. " +
  "app.set('trust proxy', '10.0.0.0/8')). Without it an app's own express-session sends no session cookie, " +
  'and the login caps count every user under the proxy’s address.';

/** The fix, for a request that no proxy forwarded. */
const PLAIN_HTTP =
  'APP_BASE_URL is https but a request arrived over plain http with no X-Forwarded-Proto: reach the app at ' +
  "APP_BASE_URL, or have the TLS-terminating proxy send X-Forwarded-Proto and set app.set('trust proxy', …).";

/** Build the check of one instance; call it on the requests of the middleware's routes. */
export function createProxyTrustCheck(config: ResolvedConfig, clock: Clock): (req: Request) => void {
  let lastMs = -Infinity;
  return (req) => {
    if (!config.secure || req.secure) return;
    const now = clock.nowMs();
    if (now - lastMs < REPEAT_MS) return;
    lastMs = now;
    const forwarded = String(req.headers['x-forwarded-proto'] ?? '');
    const viaProxy = forwarded.split(',')[0]?.trim().toLowerCase() === 'https';
    emit(config.logger, 'error', {
      msg: viaProxy ? UNTRUSTED_PROXY : PLAIN_HTTP,
      code: viaProxy ? 'proxy_not_trusted' : 'plain_http',
      method: req.method,
      path: req.path,
    });
  };
}
