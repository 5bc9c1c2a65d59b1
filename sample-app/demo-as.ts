/**
 * A local OpenID Provider for the demo and the integration tests: oidc-provider 9 with PAR and
 * PKCE required, the development login and consent screens, RP-initiated logout, and an ES256
 * signing key generated at start. Any login name and password are accepted.
 *
 * @module
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair } from 'jose';
import Provider, {
  type Account,
  type ClientMetadata,
  type Configuration,
  type KoaContextWithOIDC,
} from 'oidc-provider';
import { logoutSource, postLogoutSuccessSource, renderError } from './demo-as-pages.js';
import { listen } from './listen.js';
import { createMemoryAdapter } from './memory-adapter.js';

/** One request to the PAR endpoint (`/request`) or the token endpoint (`/token`), as the AS saw it. */
export interface RecordedAsRequest {
  /** `par` for `/request`, `token` for `/token`, `userinfo` for `/me`, `authorization` for `/auth` (the browser's leg). */
  endpoint: 'par' | 'token' | 'userinfo' | 'authorization';
  /** The request path, e.g. `/request`. */
  path: string;
  method: string;
  /** The raw `Authorization` header, if any. */
  authorization: string | undefined;
  /** The raw `Content-Type` header, if any. */
  contentType: string | undefined;
  /** The raw `DPoP` header (RFC 9449), if any. */
  dpop?: string | undefined;
  /** The form parameters as oidc-provider parsed them (`{}` when it could not parse the body). */
  body: Record<string, string | string[] | undefined>;
  /** The response status the AS answered with. */
  status: number;
  /** For `par`: the `request_uri` and `expires_in` the AS answered with. */
  pushed?: { request_uri: string; expires_in: number };
  /** For `authorization`: the URL the browser was sent to (path and query). */
  url?: string;
}

/** Options of {@link createDemoAuthorizationServer}. */
export interface DemoAuthorizationServerOptions {
  /** Registered clients, as oidc-provider client metadata. */
  clients: ClientMetadata[];
  /** TCP port. @default 0 (a free port) */
  port?: number;
  /** Interface to listen on. @default `127.0.0.1` */
  host?: string;
  /** When given, every request to `/request` and `/token` is appended to it once answered. */
  record?: RecordedAsRequest[];
  /** Change the oidc-provider configuration before the provider is created (tests enable features with it). */
  configure?: (configuration: Configuration) => void;
  /** Koa middleware installed in front of the provider's routes (tests rewrite answers with it). */
  use?: ReadonlyArray<(ctx: KoaContextWithOIDC, next: () => Promise<unknown>) => Promise<void>>;
  /** Access token lifetime in seconds. @default 600 */
  accessTokenTtl?: number;
  /** Whether every refresh rotates the refresh token. @default false (oidc-provider's rule: late in its life) */
  rotateRefreshTokens?: boolean;
}

/** A running demo authorization server. */
export interface DemoAuthorizationServer {
  /** The issuer identifier, `http://host:port` (no trailing slash). */
  issuer: string;
  /** The base URL the server answers at (equal to `issuer`). */
  url: string;
  /** The oidc-provider instance, for tests that look inside. */
  provider: Provider;
  /** Stop listening and drop every open connection. */
  close(): Promise<void>;
}

const ENDPOINTS: Readonly<Record<string, RecordedAsRequest['endpoint']>> = {
  '/request': 'par',
  '/token': 'token',
  '/me': 'userinfo',
  '/auth': 'authorization',
};

/**
 * The demo account for a login name: `sub` is the login name itself (oidc-provider's dev login
 * uses it as the account id), `alice` is "Alice Example" with `alice@example.test`.
 */
export function demoAccount(login: string): Account {
  const givenName = login.charAt(0).toUpperCase() + login.slice(1);
  const claims = {
    sub: login,
    name: `${givenName} Example`,
    given_name: givenName,
    family_name: 'Example',
    email: `${login.toLowerCase()}@example.test`,
    email_verified: true,
  };
  return { accountId: login, claims: () => claims };
}

/**
 * Start the demo authorization server.
 *
 * @param options Clients, port and the optional request record.
 * @returns The running server; call `close()` when done.
 * @see RFC 9126 (PAR), RFC 7636 (PKCE), OpenID Connect RP-Initiated Logout 1.0
 */
export async function createDemoAuthorizationServer(
  options: DemoAuthorizationServerOptions,
): Promise<DemoAuthorizationServer> {
  const listening = await listen(options.port ?? 0, options.host ?? '127.0.0.1');
  const issuer = listening.url;
  try {
    const config = await configuration(options);
    options.configure?.(config);
    const provider = new Provider(issuer, config);
    if (options.record !== undefined) provider.use(recorder(options.record));
    for (const middleware of options.use ?? []) provider.use(middleware);
    const callback = provider.callback();
    listening.server.on('request', (req, res) => void callback(req, res));
    return { issuer, url: issuer, provider, close: () => listening.close() };
  } catch (err) {
    await listening.close();
    throw err;
  }
}

async function configuration({
  clients,
  accessTokenTtl = 600,
  rotateRefreshTokens,
}: DemoAuthorizationServerOptions): Promise<Configuration> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const signingKey = { ...(await exportJWK(privateKey)), kid: randomUUID(), alg: 'ES256', use: 'sig' };
  return {
    adapter: createMemoryAdapter(),
    clients,
    clientAuthMethods: ['client_secret_basic', 'private_key_jwt'],
    clientDefaults: {
      id_token_signed_response_alg: 'ES256',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
    },
    // The demo's apps live on 127.0.0.1, which oidc-provider's SSRF guard refuses for its outgoing
    // calls (back-channel logout): this AS is local-only, so its calls go out without the guard.
    fetch: (url, init) => fetch(url, { ...init, dispatcher: undefined }),
    // A confidential client that may refresh gets a refresh token (no offline_access needed here).
    issueRefreshToken: (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    ...(rotateRefreshTokens === undefined ? {} : { rotateRefreshToken: () => rotateRefreshTokens }),
    responseTypes: ['code'],
    scopes: ['openid', 'profile', 'email'],
    claims: {
      openid: ['sub'],
      profile: ['name', 'given_name', 'family_name'],
      email: ['email', 'email_verified'],
    },
    // Put the scopes' claims in the ID token itself: the app reads the user from it, not /userinfo.
    conformIdTokenClaims: false,
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    jwks: { keys: [signingKey] },
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: true },
      backchannelLogout: { enabled: true },
      pushedAuthorizationRequests: { enabled: true, requirePushedAuthorizationRequests: true },
      rpInitiatedLogout: { enabled: true, logoutSource, postLogoutSuccessSource },
    },
    renderError,
    findAccount: (_ctx, sub) => demoAccount(sub),
    ttl: {
      AccessToken: accessTokenTtl,
      AuthorizationCode: 60,
      IdToken: 600,
      RefreshToken: 3600,
      ClientCredentials: 600,
      DeviceCode: 600,
      BackchannelAuthenticationRequest: 600,
      PreAuthorizedCode: 600,
      Interaction: 600,
      Session: 3600,
      Grant: 3600,
    },
  };
}

function recorder(record: RecordedAsRequest[]) {
  return async function recordRequest(ctx: KoaContextWithOIDC, next: () => Promise<unknown>): Promise<void> {
    const endpoint = ENDPOINTS[ctx.path];
    try {
      await next();
    } finally {
      if (endpoint !== undefined) {
        // oidc-provider parses the form itself, inside the route, into `ctx.oidc.body`.
        const body = (ctx.oidc.body ?? {}) as Record<string, string | string[] | undefined>;
        record.push({
          endpoint,
          path: ctx.path,
          method: ctx.method,
          authorization: ctx.get('authorization') || undefined,
          contentType: ctx.get('content-type') || undefined,
          dpop: ctx.get('dpop') || undefined,
          body: endpoint === 'authorization' ? {} : { ...body },
          status: ctx.status,
          ...(endpoint === 'par' && ctx.status === 201 ? { pushed: pick(ctx.body) } : {}),
          ...(endpoint === 'authorization' ? { url: ctx.originalUrl } : {}),
        });
      }
    }
  };
}

function pick(body: unknown): { request_uri: string; expires_in: number } {
  const { request_uri: requestUri, expires_in: expiresIn } = (body ?? {}) as Record<string, unknown>;
  return { request_uri: String(requestUri), expires_in: Number(expiresIn) };
}
