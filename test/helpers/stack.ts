/**
 * The integration-test stack: the app on 127.0.0.1, the demo AS beside it with two registered
 * clients (`basic-client` with a secret, `jwt-client` with an ES256 key), and the app configured
 * for one of them. Ports are free ports; secrets and keys are made per stack.
 *
 * @module
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { RequestListener } from 'node:http';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import type { ClientMetadata, Configuration, Provider } from 'oidc-provider';
import { createApp, PAR_LOGIN_LOCAL } from '../../sample-app/app.js';
import {
  createDemoAuthorizationServer,
  type DemoAuthorizationServerOptions,
  type RecordedAsRequest,
} from '../../sample-app/demo-as.js';
import { listen } from '../../sample-app/listen.js';
import type { ClientAuthMethod, ParLoginMiddleware, ParLoginOptions } from '../../src/index.js';
import { Browser } from './browser.js';

/** One record the middleware logged, with its level. */
export type LogEntry = Record<string, unknown> & { level: 'warn' | 'error' };

/** Options of {@link startStack}. */
export interface StackOptions {
  /** Which registered client the app is: `basic-client` or `jwt-client`. @default `client_secret_basic` */
  authMethod?: ClientAuthMethod;
  /** Build the app from the stack's options. @default the sample app's `createApp` */
  buildApp?: (options: ParLoginOptions) => RequestListener;
  /** Options merged over the stack's own (`undefined` values included, to unset one). */
  overrides?: Partial<ParLoginOptions>;
  /** Change the AS's oidc-provider configuration (enable features, add clients) before it starts. */
  configureAs?: (configuration: Configuration, context: { appUrl: string; publicJwk: JWK }) => void;
  /** Koa middleware in front of the AS's routes. */
  asMiddleware?: DemoAuthorizationServerOptions['use'];
  /** Options of the AS (token lifetimes, rotation). */
  as?: Pick<DemoAuthorizationServerOptions, 'accessTokenTtl' | 'rotateRefreshTokens'>;
}

/** A running stack. */
export interface Stack {
  /** The app's base URL, `http://127.0.0.1:port`. */
  appUrl: string;
  issuer: string;
  provider: Provider;
  /** Every request to the AS's PAR and token endpoints, in order. */
  record: RecordedAsRequest[];
  /** The options the app was built with. */
  options: ParLoginOptions;
  /** `jwt-client`'s private key (ES256, with `kid` and `alg`). */
  privateJwk: JWK;
  /** `basic-client`'s secret. */
  clientSecret: string;
  /** Everything the middleware logged. */
  logs: LogEntry[];
  /** The app (its `locals` hold the middleware). */
  app: RequestListener;
  /** The app's parLogin middleware. */
  middleware(): ParLoginMiddleware;
  /** A fresh browser that knows the AS's issuer. */
  browser(): Browser;
  /** Stop the AS alone (the app keeps running), to test an AS that goes away. */
  stopAuthorizationServer(): Promise<void>;
  /** Stop the app, its back-channel pool and the AS. */
  close(): Promise<void>;
}

/** The back-channel requests among recorded AS requests (the browser's visits to the authorization endpoint left out). */
export function backChannel(records: readonly RecordedAsRequest[]): RecordedAsRequest[] {
  return records.filter((entry) => entry.endpoint !== 'authorization');
}

/**
 * Start the app server (port 0, so its URL is known first), then the AS with both clients
 * registered for that URL, then build the app and attach it.
 */
export async function startStack(stackOptions: StackOptions = {}): Promise<Stack> {
  const authMethod = stackOptions.authMethod ?? 'client_secret_basic';
  const appServer = await listen(0, '127.0.0.1');
  const appUrl = appServer.url;
  const clientSecret = randomBytes(32).toString('base64url');
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const kid = randomUUID();
  const privateJwk: JWK = { ...(await exportJWK(privateKey)), kid, alg: 'ES256' };
  const publicJwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };
  const uris = {
    redirect_uris: [`${appUrl}/callback`],
    post_logout_redirect_uris: [`${appUrl}/`],
    backchannel_logout_uri: `${appUrl}/backchannel-logout`,
    backchannel_logout_session_required: true,
  };
  const clients: ClientMetadata[] = [
    {
      client_id: 'basic-client',
      client_secret: clientSecret,
      token_endpoint_auth_method: 'client_secret_basic',
      ...uris,
    },
    {
      client_id: 'jwt-client',
      token_endpoint_auth_method: 'private_key_jwt',
      token_endpoint_auth_signing_alg: 'ES256',
      jwks: { keys: [publicJwk] },
      ...uris,
    },
  ];

  const record: RecordedAsRequest[] = [];
  const logs: LogEntry[] = [];
  let as: Awaited<ReturnType<typeof createDemoAuthorizationServer>> | undefined;
  try {
    const configureAs = stackOptions.configureAs;
    as = await createDemoAuthorizationServer({
      clients,
      record,
      ...stackOptions.as,
      ...(stackOptions.asMiddleware ? { use: stackOptions.asMiddleware } : {}),
      ...(configureAs
        ? { configure: (config: Configuration) => configureAs(config, { appUrl, publicJwk }) }
        : {}),
    });
    const options: ParLoginOptions = {
      issuer: as.issuer,
      baseUrl: appUrl,
      sessionSecret: randomBytes(32).toString('base64url'),
      clientAuthMethod: authMethod,
      ...(authMethod === 'private_key_jwt'
        ? { clientId: 'jwt-client', privateKey: privateJwk }
        : { clientId: 'basic-client', clientSecret }),
      logger: {
        warn: (entry) => void logs.push({ ...entry, level: 'warn' }),
        error: (entry) => void logs.push({ ...entry, level: 'error' }),
      },
      ...stackOptions.overrides,
    };
    const app = (stackOptions.buildApp ?? createApp)(options);
    appServer.server.on('request', app);
    const { issuer, provider } = as;
    const authServer = as;
    return {
      appUrl,
      issuer,
      provider,
      record,
      options,
      privateJwk,
      clientSecret,
      logs,
      app,
      middleware: () => middlewareOf(app)!,
      browser: () => new Browser({ issuer }),
      stopAuthorizationServer: () => authServer.close(),
      close: async () => {
        await appServer.close();
        await middlewareOf(app)?.close();
        await authServer.close();
      },
    };
  } catch (err) {
    await appServer.close();
    await as?.close();
    throw err;
  }
}

function middlewareOf(app: RequestListener): ParLoginMiddleware | undefined {
  const locals = (app as { locals?: Record<string, unknown> }).locals;
  return locals?.[PAR_LOGIN_LOCAL] as ParLoginMiddleware | undefined;
}

/**
 * Make the AS's logins assert `acr.value` (none when undefined) from now on, as an interaction that
 * authenticated the user at that level would (oidc-provider's `login.acr` result).
 */
export function assertAcrAtLogin(provider: Provider, acr: { value: string | undefined }): void {
  const finish = provider.interactionFinished.bind(provider);
  provider.interactionFinished = (req, res, result, options) =>
    finish(
      req,
      res,
      result.login !== undefined && acr.value !== undefined
        ? { ...result, login: { ...result.login, acr: acr.value } }
        : result,
      options,
    );
}
