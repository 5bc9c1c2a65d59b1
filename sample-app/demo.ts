/**
 * `npm run demo`: a local demo AS and the sample app, wired together, nothing to configure.
 *
 * The AS listens on 127.0.0.1:DEMO_AS_PORT (default 3001) with one confidential client for the
 * app (client_secret_basic, a secret made at start); the app listens on 127.0.0.1:PORT (default
 * 3000). Variables that must match the AS registration are always set here; others the user set
 * (SESSION_SECRET, OIDC_SCOPE, …) are kept.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { createApp, PAR_LOGIN_LOCAL } from './app.js';
import { createDemoAuthorizationServer } from './demo-as.js';
import { listen } from './listen.js';
import { onShutdown } from './shutdown.js';

const HOST = '127.0.0.1';
const appPort = Number(process.env.PORT ?? 3000);
const asPort = Number(process.env.DEMO_AS_PORT ?? 3001);
const appBase = `http://${HOST}:${appPort}`;
const clientId = 'sample-app';
const clientSecret = randomBytes(32).toString('base64url');

const as = await createDemoAuthorizationServer({
  port: asPort,
  host: HOST,
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    token_endpoint_auth_method: 'client_secret_basic',
    redirect_uris: [`${appBase}/callback`],
    post_logout_redirect_uris: [`${appBase}/`],
  }],
});

Object.assign(process.env, {
  OIDC_ISSUER: as.issuer,
  OIDC_CLIENT_ID: clientId,
  OIDC_CLIENT_AUTH_METHOD: 'client_secret_basic',
  OIDC_CLIENT_SECRET: clientSecret,
  APP_BASE_URL: appBase,
  OIDC_POST_LOGOUT_REDIRECT_URI: `${appBase}/`,
});
process.env.SESSION_SECRET ||= randomBytes(32).toString('base64url');

const app = createApp();
const listening = await listen(appPort, HOST, app);
onShutdown(listening.close, () => app.locals[PAR_LOGIN_LOCAL].close(), as.close);

console.log(`
  Demo authorization server: ${as.issuer}
  Sample app:                ${listening.url}

  Open ${listening.url}/ in your browser and click "Log in".
  At the demo AS any user name and any password work (try "alice").

  Ctrl+C stops both.
`);
