/**
 * The app the token tests drive: `parLogin()`, a guarded page, a route that uses the access token
 * server-side and reports only a digest of it (the browser learns nothing; tests compare the digest
 * with the vault), API proxies mounted where a test asks, and a JSON error handler.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import express from 'express';
import { PAR_LOGIN_LOCAL } from '../../sample-app/app.js';
import {
  apiProxy,
  parLogin,
  requireLogin,
  type ApiProxyOptions,
  type ParLoginOptions,
} from '../../src/index.js';

/** SHA-256 digest of a token, base64url: what `/call` reports. */
export const sha = (value: string): string => createHash('sha256').update(value).digest('base64url');

/**
 * Build the app from the stack's options.
 *
 * @param proxies Mount path → options of an `apiProxy()` mounted there.
 */
export function tokenApp(proxies: Record<string, ApiProxyOptions> = {}) {
  return (options: ParLoginOptions): express.Express => {
    const app = express();
    const auth = parLogin(options);
    app.locals[PAR_LOGIN_LOCAL] = auth;
    app.use(auth);
    app.get(
      '/profile',
      requireLogin(),
      (req, res) => void res.send(`hello ${String(req.auth.claims!.name)}`),
    );
    app.get('/call', requireLogin(), async (req, res, next) => {
      try {
        res.json({ token: sha(await req.auth.accessToken()), type: req.auth.tokenType });
      } catch (err) {
        next(err);
      }
    });
    for (const [path, proxy] of Object.entries(proxies)) app.use(path, apiProxy(proxy));
    app.use(codedJsonErrors);
    return app;
  };
}

/** An app's error handler answering `{ error: code }` with the error's status (500 `internal` without). */
export function codedJsonErrors(
  err: { status?: number; code?: string },
  _req: express.Request,
  res: express.Response,
  // eslint-disable-next-line @typescript-eslint/no-unused-vars -- Express knows an error handler by its four parameters
  _next: express.NextFunction,
): void {
  res.status(err.status ?? 500).json({ error: err.code ?? 'internal' });
}
