/**
 * The demo's two servers, wired together: the demo AS (oidc-provider, PAR and PKCE required) and
 * the sample app as its registered confidential client. `npm run demo` runs it on fixed ports; the
 * browser tests run the very same setup on free ports.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { createApp, PAR_LOGIN_LOCAL } from './app.js';
import { createDemoAuthorizationServer, type RecordedAsRequest } from './demo-as.js';
import { listen } from './listen.js';
import type { ParLoginMiddleware, ParLoginOptions } from '../src/index.js';

/** Options of {@link startDemo}. */
export interface DemoOptions {
  /** The app's port. @default 0 (a free port) */
  appPort?: number;
  /** The AS's port. @default 0 (a free port) */
  asPort?: number;
  /** Interface both listen on. @default `127.0.0.1` */
  host?: string;
  /** Options for `parLogin()` beyond the ones the demo sets (e.g. `sessionSecret`, `scope`). */
  options?: Partial<ParLoginOptions>;
}

/** The running demo. */
export interface Demo {
  /** The sample app's URL. */
  appUrl: string;
  /** The demo AS's issuer. */
  issuer: string;
  /** What the AS saw at its PAR, authorization, token and userinfo endpoints, in order. */
  record: RecordedAsRequest[];
  /** Stop both servers. */
  close(): Promise<void>;
}

/**
 * Start the demo: the app's server first (so its URL is known), then the AS with the app's client
 * registered (client_secret_basic, a secret made now, back-channel logout), then the app itself,
 * showing the "what happened" panel that teaches PAR.
 */
export async function startDemo(demo: DemoOptions = {}): Promise<Demo> {
  const host = demo.host ?? '127.0.0.1';
  const appServer = await listen(demo.appPort ?? 0, host);
  const appUrl = appServer.url;
  const clientId = 'sample-app';
  const clientSecret = randomBytes(32).toString('base64url');
  const record: RecordedAsRequest[] = [];
  let as: Awaited<ReturnType<typeof createDemoAuthorizationServer>> | undefined;
  try {
    as = await createDemoAuthorizationServer({
      port: demo.asPort ?? 0,
      host,
      record,
      clients: [
        {
          client_id: clientId,
          client_secret: clientSecret,
          token_endpoint_auth_method: 'client_secret_basic',
          redirect_uris: [`${appUrl}/callback`],
          post_logout_redirect_uris: [`${appUrl}/`],
          backchannel_logout_uri: `${appUrl}/backchannel-logout`,
          backchannel_logout_session_required: true,
        },
      ],
    });
    const app = createApp(
      {
        issuer: as.issuer,
        clientId,
        clientAuthMethod: 'client_secret_basic',
        clientSecret,
        baseUrl: appUrl,
        postLogoutRedirectUri: `${appUrl}/`,
        sessionSecret: randomBytes(32).toString('base64url'),
        ...demo.options,
      },
      { demoRecord: record },
    );
    appServer.server.on('request', app);
    const authServer = as;
    return {
      appUrl,
      issuer: as.issuer,
      record,
      close: async () => {
        await appServer.close();
        await (app.locals[PAR_LOGIN_LOCAL] as ParLoginMiddleware).close();
        await authServer.close();
      },
    };
  } catch (err) {
    await appServer.close();
    await as?.close();
    throw err;
  }
}
