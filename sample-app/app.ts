/**
 * The sample app: a public home page and a profile page behind a login. It does not listen;
 * `server.ts` and `demo.ts` do, and the integration tests mount it on their own server.
 *
 * @module
 */
import express from 'express';
import { parLogin, requireLogin, type ParLoginMiddleware, type ParLoginOptions } from '../src/index.js';
import type { RecordedAsRequest } from './demo-as.js';
import { homePage, parPanel, profilePage } from './pages.js';

/** Where {@link createApp} keeps the middleware, so that its owner can `close()` it. */
export const PAR_LOGIN_LOCAL = 'parLogin';

const CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'";

function sendPage(res: express.Response, html: string): void {
  res.set({ 'Content-Security-Policy': CSP, 'Cache-Control': 'no-store' }).type('html').send(html);
}

/** Extras of the demo. */
export interface SampleAppExtras {
  /**
   * The demo AS's record of what it was sent: when given, pages show a panel with the last login's
   * pushed parameters, the `request_uri` and `expires_in` received, and the short URL the browser
   * carried (demo mode only: it shows one AS's traffic to whoever opens the page).
   */
  demoRecord?: readonly RecordedAsRequest[];
}

/**
 * Build the sample app. `GET /` is public; `GET /profile` needs a login; `parLogin()` adds
 * `/login`, `/callback`, `/logout` and `/me`. The middleware is kept in
 * `app.locals[PAR_LOGIN_LOCAL]` (a {@link ParLoginMiddleware}) for shutdown.
 *
 * @param options Passed to `parLogin()`; without them it reads the environment.
 * @param extras The demo's panel.
 * @throws {ConfigError} when the configuration is incomplete or invalid.
 */
export function createApp(options?: ParLoginOptions, extras: SampleAppExtras = {}): express.Express {
  const app = express();
  app.disable('x-powered-by');
  const auth: ParLoginMiddleware = parLogin(options);
  app.locals[PAR_LOGIN_LOCAL] = auth;
  app.use(auth);
  const panel = (): string => (extras.demoRecord === undefined ? '' : parPanel(extras.demoRecord));
  app.get('/', (req, res) => sendPage(res, homePage(req.auth?.claims, panel())));
  app.get('/profile', requireLogin(), (req, res) =>
    sendPage(res, profilePage(req.auth.claims ?? {}, panel())),
  );
  return app;
}
