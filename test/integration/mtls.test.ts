/**
 * Mutual TLS (RFC 8705) against oidc-provider, whose `mtls_endpoint_aliases` (§5) are served by a
 * local TLS server that asks for client certificates (certificates made at run time in Node, see
 * test/helpers/certs.ts): `tls_client_auth` with a CA-issued certificate (§2.1),
 * `self_signed_tls_client_auth` with a registered self-signed one (§2.2), certificate-bound access
 * tokens (§3) through login, userinfo and refresh, and the coded errors of an untrusted or
 * missing certificate.
 */
import { createHash, createPublicKey, X509Certificate } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import express from 'express';
import { exportJWK } from 'jose';
import type { ClientMetadata, Configuration, KoaContextWithOIDC } from 'oidc-provider';
import { PAR_LOGIN_LOCAL } from '../../sample-app/app.js';
import { apiProxy, parLogin, requireLogin, type ParLoginOptions } from '../../src/index.js';
import { sessionUser } from '../../src/session/session.js';
import { createTestPki, type TestCertificate, type TestPki } from '../helpers/certs.js';
import { backChannel, startStack, type Stack } from '../helpers/stack.js';
import { contextOf } from '../helpers/tokens.js';

const TTL = 10;
const SKEW = 7;
const untilRefreshDue = (): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, (TTL - SKEW) * 1000 + 200));
const thumbprint = (cert: TestCertificate): string =>
  createHash('sha256').update(new X509Certificate(cert.cert).raw).digest('base64url');

/** How each request reached the AS: over which server, with which client certificate. */
interface Arrival {
  path: string;
  tls: boolean;
  peer: string | undefined;
}

let pki: TestPki;
/** Serves the aliases and asks for a client certificate (verified against the test CA, not required by TLS). */
let mtlsServer: Server;
/** Serves the aliases without asking for a client certificate: the AS gets none. */
let plainTlsServer: Server;
/**
 * A resource server that requires a client certificate (TLS refuses a connection without one from
 * the test CA) and checks certificate binding (RFC 8705 §3): the presented certificate's
 * thumbprint must be the access token's `x5t#S256`, as the AS that issued it saved it.
 */
let apiServer: Server;
/** The AS whose tokens the API checks. */
let apiProvider: Stack['provider'] | undefined;
const base = (server: Server): string => `https://127.0.0.1:${(server.address() as { port: number }).port}`;

beforeAll(async () => {
  pki = createTestPki();
  mtlsServer = createServer({
    key: pki.server.key,
    cert: pki.server.cert,
    ca: pki.ca.cert,
    requestCert: true,
    rejectUnauthorized: false,
  });
  plainTlsServer = createServer({ key: pki.server.key, cert: pki.server.cert });
  apiServer = createServer(
    {
      key: pki.server.key,
      cert: pki.server.cert,
      ca: pki.ca.cert,
      requestCert: true,
      rejectUnauthorized: true,
    },
    (req, res) => {
      const peer = (req.socket as TLSSocket).getPeerCertificate(false);
      const presented = peer?.raw ? createHash('sha256').update(peer.raw).digest('base64url') : undefined;
      const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      void (token && apiProvider ? apiProvider.AccessToken.find(token) : Promise.resolve(undefined)).then(
        (saved) => {
          const bound = saved?.['x5t#S256'];
          res.writeHead(presented !== undefined && bound === presented ? 200 : 401, {
            'content-type': 'application/json',
          });
          res.end(JSON.stringify({ presented, bound: bound ?? null }));
        },
      );
    },
  );
  await Promise.all(
    [mtlsServer, plainTlsServer, apiServer].map(
      (server) => new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve)),
    ),
  );
});
afterAll(async () => {
  for (const server of [mtlsServer, plainTlsServer, apiServer]) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  pki.remove();
});

function peerCertificate(ctx: KoaContextWithOIDC): X509Certificate | undefined {
  const socket = ctx.req.socket as Partial<TLSSocket>;
  const peer = socket.getPeerCertificate?.(false);
  return peer?.raw ? new X509Certificate(peer.raw) : undefined;
}

function enableMtls(aliasBase: string, extraClients: (appUrl: string) => ClientMetadata[]) {
  return (config: Configuration, { appUrl }: { appUrl: string }): void => {
    config.clientAuthMethods = [
      'client_secret_basic',
      'private_key_jwt',
      'tls_client_auth',
      'self_signed_tls_client_auth',
    ];
    config.features!.mTLS = {
      enabled: true,
      certificateBoundAccessTokens: true,
      tlsClientAuth: true,
      selfSignedTlsClientAuth: true,
      getCertificate: peerCertificate,
      certificateAuthorized: (ctx: KoaContextWithOIDC) => (ctx.req.socket as TLSSocket).authorized === true,
      certificateSubjectMatches: (ctx: KoaContextWithOIDC, property: string, expected: string) =>
        property === 'tls_client_auth_subject_dn' && peerCertificate(ctx)?.subject === expected,
    };
    config.features!.userinfo = { enabled: true };
    config.discovery = {
      mtls_endpoint_aliases: {
        token_endpoint: `${aliasBase}/token`,
        pushed_authorization_request_endpoint: `${aliasBase}/request`,
        userinfo_endpoint: `${aliasBase}/me`,
      },
    };
    (config.clients as ClientMetadata[]).push(...extraClients(appUrl));
  };
}

/** The app: the login routes, a page, and a route that uses the access token server-side (refreshing it). */
function buildApp(options: ParLoginOptions) {
  const app = express();
  const auth = parLogin(options);
  app.locals[PAR_LOGIN_LOCAL] = auth;
  app.use(auth);
  // The API proxy, presenting the certificate the tokens are bound to, and without it.
  const tls = { tlsCa: options.tlsCa as string };
  app.use(
    '/api',
    apiProxy({
      target: base(apiServer),
      ...tls,
      tlsClientCert: options.tlsClientCert,
      tlsClientKey: options.tlsClientKey,
    }),
  );
  app.use('/api-without-cert', apiProxy({ target: base(apiServer), ...tls }));
  app.get('/profile', requireLogin(), (req, res) => void res.send(`hello ${String(req.auth.claims!.name)}`));
  // Test only: the session's token record reference, to read the tokens from the vault.
  app.get('/token-ref', requireLogin(), (req, res) => void res.json({ ref: sessionUser(req)!.tokenRef }));
  app.get('/call', requireLogin(), async (req, res, next) => {
    try {
      res.json({
        token: createHash('sha256')
          .update(await req.auth.accessToken())
          .digest('base64url'),
      });
    } catch (err) {
      next(err);
    }
  });
  return app;
}

interface MtlsStack {
  stack: Stack;
  bound: Map<string, unknown>;
  arrivals: Arrival[];
}

async function startMtlsStack(
  clients: (appUrl: string) => ClientMetadata[],
  overrides: Partial<ParLoginOptions>,
  { aliases = mtlsServer, ttl }: { aliases?: Server; ttl?: number } = {},
): Promise<MtlsStack> {
  const arrivals: Arrival[] = [];
  const stack = await startStack({
    configureAs: enableMtls(base(aliases), clients),
    buildApp: buildApp as never,
    overrides: { clientSecret: undefined, ...overrides },
    ...(ttl ? { as: { accessTokenTtl: ttl } } : {}),
    asMiddleware: [
      async (ctx, next) => {
        const socket = ctx.req.socket as Partial<TLSSocket>;
        arrivals.push({
          path: ctx.path,
          tls: socket.encrypted === true,
          peer: peerCertificate(ctx)?.subject,
        });
        await next();
      },
    ],
  });
  for (const server of [mtlsServer, plainTlsServer]) server.removeAllListeners('request');
  const callback = stack.provider.callback();
  aliases.on('request', (req, res) => void callback(req, res));
  const bound = new Map<string, unknown>(); // access token value's jti → its x5t#S256, as the AS saved it
  (stack.provider as unknown as NodeJS.EventEmitter).on(
    'access_token.saved',
    (token: Record<string, unknown>) => void bound.set(String(token.jti), token['x5t#S256']),
  );
  return { stack, bound, arrivals };
}

/** The vault's tokens of the browser's session. */
async function vaultTokens(stack: Stack, browser: ReturnType<Stack['browser']>) {
  const { ref } = JSON.parse((await browser.navigate(`${stack.appUrl}/token-ref`)).body) as { ref: string };
  return (await contextOf(stack.middleware()).vault.read(ref))!;
}

describe('tls_client_auth', () => {
  let env: MtlsStack;
  let client: TestCertificate;
  beforeAll(async () => {
    client = pki.client('mtls-client');
    env = await startMtlsStack(
      (appUrl) => [
        {
          client_id: 'mtls-client',
          token_endpoint_auth_method: 'tls_client_auth',
          tls_client_auth_subject_dn: 'CN=mtls-client',
          tls_client_certificate_bound_access_tokens: true,
          redirect_uris: [`${appUrl}/callback`],
          post_logout_redirect_uris: [`${appUrl}/`],
        },
      ],
      {
        clientId: 'mtls-client',
        clientAuthMethod: 'tls_client_auth',
        tlsClientCert: client.certFile,
        tlsClientKey: client.keyFile,
        tlsCa: pki.ca.certFile,
        fetchUserinfo: true,
        refreshSkewSeconds: SKEW,
      },
      { ttl: TTL },
    );
  });
  afterAll(() => env.stack.close());

  it('pushes, exchanges the code and fetches userinfo at the mTLS aliases with the client certificate; the token is bound to it', async () => {
    const { stack, arrivals, bound } = env;
    const [recordBefore, arrivalsBefore] = [stack.record.length, arrivals.length];
    const browser = stack.browser();
    const hops = await browser.login(stack.appUrl, { returnTo: '/profile', user: 'frank' });
    expect(hops.at(-1)!.body).toContain('Frank Example');
    const [par, token, userinfo] = backChannel(stack.record.slice(recordBefore));
    expect(par).toMatchObject({ endpoint: 'par', status: 201 });
    expect(token).toMatchObject({ endpoint: 'token', status: 200 });
    expect(userinfo).toMatchObject({
      endpoint: 'userinfo',
      status: 200,
      authorization: expect.stringMatching(/^Bearer /),
    });
    for (const req of [par!, token!]) {
      expect(req.authorization).toBeUndefined();
      expect(req.body.client_id).toBe('mtls-client');
      expect(req.body.client_secret).toBeUndefined();
      expect(req.body.client_assertion).toBeUndefined();
    }
    const backChannelArrivals = arrivals
      .slice(arrivalsBefore)
      .filter((a) => ['/request', '/token', '/me'].includes(a.path));
    expect(backChannelArrivals).toEqual(
      ['/request', '/token', '/me'].map((path) => ({ path, tls: true, peer: 'CN=mtls-client' })),
    );
    const tokens = await vaultTokens(stack, browser);
    const saved = await stack.provider.AccessToken.find(tokens.accessToken);
    expect(saved?.['x5t#S256']).toBe(thumbprint(client));
    expect([...bound.values()].at(-1)).toBe(thumbprint(client));
    const me = JSON.parse((await browser.navigate(`${stack.appUrl}/me`)).body) as {
      claims: { email: string };
    };
    expect(me.claims.email).toBe('frank@example.test'); // from userinfo
  });

  it('apiProxy() presents the certificate the token is bound to, and an API that checks the binding accepts the call', async () => {
    const { stack } = env;
    apiProvider = stack.provider;
    const browser = stack.browser();
    await browser.login(stack.appUrl);
    const call = await browser.request(`${stack.appUrl}/api/accounts`, {
      headers: { 'x-csrf': '1', accept: 'application/json' },
    });
    expect(call.status).toBe(200);
    expect(JSON.parse(call.body)).toEqual({ presented: thumbprint(client), bound: thumbprint(client) });
    // Without the certificate the API's TLS refuses the connection: a coded 502, the app keeps serving.
    const refused = await browser.request(`${stack.appUrl}/api-without-cert/accounts`, {
      headers: { 'x-csrf': '1', accept: 'application/json' },
    });
    expect(refused.status).toBe(502);
    expect((JSON.parse(refused.body) as { error: string }).error).toBe('api_unreachable');
    expect((await browser.navigate(`${stack.appUrl}/me`)).status).toBe(200);
  });

  it('refreshes at the token endpoint alias with the client certificate, and the new token is bound to it too', async () => {
    const { stack, arrivals } = env;
    const browser = stack.browser();
    await browser.login(stack.appUrl);
    const before = await vaultTokens(stack, browser);
    await untilRefreshDue();
    const [recordBefore, arrivalsBefore] = [stack.record.length, arrivals.length];
    expect((await browser.navigate(`${stack.appUrl}/call`)).status).toBe(200);
    const [refresh] = backChannel(stack.record.slice(recordBefore));
    expect(refresh).toMatchObject({
      endpoint: 'token',
      status: 200,
      body: { grant_type: 'refresh_token', client_id: 'mtls-client' },
    });
    expect(refresh!.authorization).toBeUndefined();
    expect(arrivals.slice(arrivalsBefore).filter((a) => a.path === '/token')).toEqual([
      { path: '/token', tls: true, peer: 'CN=mtls-client' },
    ]);
    const after = await vaultTokens(stack, browser);
    expect(after.accessToken).not.toBe(before.accessToken);
    expect((await stack.provider.AccessToken.find(after.accessToken))?.['x5t#S256']).toBe(thumbprint(client));
  });
});

describe('self_signed_tls_client_auth', () => {
  let env: MtlsStack;
  let self: TestCertificate;
  beforeAll(async () => {
    self = pki.selfSigned('self-client');
    const x509 = new X509Certificate(self.cert);
    const jwk = { ...(await exportJWK(createPublicKey(self.cert))), x5c: [x509.raw.toString('base64')] };
    env = await startMtlsStack(
      (appUrl) => [
        {
          client_id: 'self-client',
          token_endpoint_auth_method: 'self_signed_tls_client_auth',
          jwks: { keys: [jwk] },
          tls_client_certificate_bound_access_tokens: true,
          redirect_uris: [`${appUrl}/callback`],
          post_logout_redirect_uris: [`${appUrl}/`],
        },
      ],
      {
        clientId: 'self-client',
        clientAuthMethod: 'self_signed_tls_client_auth',
        tlsClientCert: self.certFile,
        tlsClientKey: self.keyFile,
        tlsCa: pki.ca.certFile,
      },
    );
  });
  afterAll(() => env.stack.close());

  it('logs in with the registered self-signed certificate, and the token is bound to it', async () => {
    const { stack, arrivals } = env;
    const arrivalsBefore = arrivals.length;
    const browser = stack.browser();
    const hops = await browser.login(stack.appUrl, { returnTo: '/profile' });
    expect(hops.at(-1)!.body).toContain('Alice Example');
    expect(
      arrivals.slice(arrivalsBefore).filter((a) => a.path === '/request' || a.path === '/token'),
    ).toEqual([
      { path: '/request', tls: true, peer: 'CN=self-client' },
      { path: '/token', tls: true, peer: 'CN=self-client' },
    ]);
    const tokens = await vaultTokens(stack, browser);
    expect((await stack.provider.AccessToken.find(tokens.accessToken))?.['x5t#S256']).toBe(thumbprint(self));
  });
});

describe('certificates the AS does not accept', () => {
  const client = (appUrl: string): ClientMetadata[] => [
    {
      client_id: 'mtls-client',
      token_endpoint_auth_method: 'tls_client_auth',
      tls_client_auth_subject_dn: 'CN=mtls-client',
      redirect_uris: [`${appUrl}/callback`],
    },
  ];

  async function expectParError(env: MtlsStack): Promise<void> {
    const res = await env.stack.browser().request(`${env.stack.appUrl}/login`, {
      headers: { accept: 'application/json', 'sec-fetch-mode': 'cors' },
    });
    expect(res.status).toBe(502);
    expect(JSON.parse(res.body)).toMatchObject({ error: 'par_error' });
    expect(env.stack.logs.at(-1)).toMatchObject({ code: 'par_error', as_error: 'invalid_client' });
    const page = await env.stack.browser().request(`${env.stack.appUrl}/login`, {
      headers: { accept: 'text/html', 'sec-fetch-mode': 'navigate' },
    });
    expect(page.body).toContain('par_error');
  }

  it('a certificate from a CA the AS does not trust (same subject): par_error, invalid_client', async () => {
    const stranger = pki.strangerClient('mtls-client');
    const env = await startMtlsStack(client, {
      clientId: 'mtls-client',
      clientAuthMethod: 'tls_client_auth',
      tlsClientCert: stranger.certFile,
      tlsClientKey: stranger.keyFile,
      tlsCa: pki.ca.certFile,
    });
    try {
      await expectParError(env);
      expect(env.arrivals.at(-1)).toMatchObject({ path: '/request', tls: true, peer: 'CN=mtls-client' }); // presented, and refused
    } finally {
      await env.stack.close();
    }
  });

  it('no certificate reaching the AS (its aliases do not ask for one): par_error, invalid_client', async () => {
    const good = pki.client('mtls-client');
    const env = await startMtlsStack(
      client,
      {
        clientId: 'mtls-client',
        clientAuthMethod: 'tls_client_auth',
        tlsClientCert: good.certFile,
        tlsClientKey: good.keyFile,
        tlsCa: pki.ca.certFile,
      },
      { aliases: plainTlsServer },
    );
    try {
      await expectParError(env);
      expect(env.arrivals.at(-1)).toEqual({ path: '/request', tls: true, peer: undefined });
    } finally {
      await env.stack.close();
    }
  });

  it('no certificate configured: parLogin() refuses to start, naming the variable (ERR_INVALID_CONFIG)', () => {
    expect(() =>
      parLogin({
        issuer: 'https://as.example',
        clientId: 'mtls-client',
        clientAuthMethod: 'tls_client_auth',
        baseUrl: 'http://127.0.0.1:3000',
        sessionSecret: 'x'.repeat(32),
      }),
    ).toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_CONFIG',
        problems: expect.arrayContaining([expect.stringContaining('tlsClientCert (OIDC_TLS_CLIENT_CERT)')]),
      }),
    );
  });

  it('a server certificate the client does not trust (no tlsCa): the push fails with a transport code, not a silent fallback', async () => {
    const good = pki.client('mtls-client');
    const env = await startMtlsStack(client, {
      clientId: 'mtls-client',
      clientAuthMethod: 'tls_client_auth',
      tlsClientCert: good.certFile,
      tlsClientKey: good.keyFile,
    });
    try {
      const arrivalsBefore = env.arrivals.length;
      const res = await env.stack.browser().request(`${env.stack.appUrl}/login`, {
        headers: { accept: 'application/json', 'sec-fetch-mode': 'cors' },
      });
      expect(res.status).toBe(502);
      expect((JSON.parse(res.body) as { error: string }).error).toMatch(/^as_/);
      expect(env.arrivals.slice(arrivalsBefore).some((a) => a.path === '/request')).toBe(false);
    } finally {
      await env.stack.close();
    }
  });
});
