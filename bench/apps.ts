/**
 * The Express apps under test. Every app answers `GET /private` with the same body,
 * `{"sub":"alice"}`, when the request is logged in:
 * - `ours`: parLogin() and requireLogin();
 * - `eoc`: express-openid-connect with PAR, the alternative users pick today;
 * - `bare`: no session at all (the ceiling of any logged-in route);
 * - `bare-session`: express-session with the same settings as ours (the ceiling of any
 *   session-backed route), with express-session's MemoryStore, ours's TTL memory store, or Redis;
 * - `floor`: the protocol steps of a login and nothing else (scenario 3's floor): `/login` pushes
 *   and redirects, `/callback` exchanges the code and redirects; no check, no session.
 *
 * @module
 */
import { createHash, randomBytes } from 'node:crypto';
import type { RequestListener } from 'node:http';
import express from 'express';
import type { ConfigParams } from 'express-openid-connect';
import session from 'express-session';
import type { ParLoginContext } from '../src/context.js';
import { parLogin, requireLogin, type ParLoginOptions } from '../src/index.js';
import { INTERNAL_CONTEXT } from '../src/par-login.js';
import { TtlMemoryStore } from '../src/session/memory-store.js';
import type { BareStore, EocSettings, FloorSettings } from './protocol.js';

/** A built app and how to release what it holds. */
export interface BuiltApp {
  handler: RequestListener;
  close(): Promise<void>;
  /** Store a session under `sid` (bare-session only). */
  seed?(sid: string, json: string): Promise<void>;
  /** Entries in the app's in-memory shared state (ours only). */
  sharedKeys?(): number;
}

function baseApp(): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  return app;
}

/** Our middleware, as an app mounts it. */
export function oursApp(options: ParLoginOptions): BuiltApp {
  const app = baseApp();
  const middleware = parLogin(options);
  app.use(middleware);
  app.get('/', (_req, res) => void res.type('text').send('home'));
  app.get('/private', requireLogin(), (req, res) => void res.json({ sub: req.auth.claims!.sub }));
  const shared = (middleware as unknown as Record<symbol, ParLoginContext>)[INTERNAL_CONTEXT]!.shared as {
    size?: number;
  };
  return { handler: app, close: () => middleware.close(), sharedKeys: () => shared.size ?? 0 };
}

/** express-openid-connect with PAR and the code flow, against the same AS. */
export async function eocApp(baseUrl: string, settings: EocSettings): Promise<BuiltApp> {
  // CommonJS without detectable named exports; loaded only in the children that run it.
  const {
    default: { auth, requiresAuth },
  } = await import('express-openid-connect');
  const app = baseApp();
  const config: ConfigParams = {
    issuerBaseURL: settings.issuer,
    baseURL: baseUrl,
    clientID: settings.clientId,
    secret: randomBytes(32).toString('base64url'),
    authRequired: false,
    idpLogout: false,
    pushedAuthorizationRequests: true,
    idTokenSigningAlg: 'ES256',
    authorizationParams: { response_type: 'code', response_mode: 'query', scope: 'openid profile email' },
    ...(settings.privateJwk !== undefined
      ? {
          clientAuthMethod: 'private_key_jwt',
          clientAssertionSigningKey: settings.privateJwk,
          clientAssertionSigningAlg: 'ES256',
        }
      : { clientAuthMethod: 'client_secret_basic', clientSecret: settings.clientSecret }),
  };
  app.use(auth(config));
  app.get('/', (_req, res) => void res.type('text').send('home'));
  app.get(
    '/private',
    requiresAuth(),
    (req, res) => void res.json({ sub: req.oidc.user?.sub as string | undefined }),
  );
  return { handler: app, close: async () => {} };
}

/** A route with no session: the upper limit of any logged-in route. */
export function bareApp(): BuiltApp {
  const app = baseApp();
  app.get('/private', (_req, res) => void res.json({ sub: 'alice' }));
  return { handler: app, close: async () => {} };
}

/**
 * The least an Express app can do for a complete PAR login (scenario 3's floor, not a client anyone
 * should run): no ID token validation, no iss or state binding beyond a lookup, no session.
 */
export async function floorApp(baseUrl: string, settings: FloorSettings): Promise<BuiltApp> {
  const { Agent, request } = await import('undici');
  const agent = new Agent({ keepAliveTimeout: 30_000 });
  const discovery = await request(`${settings.issuer}/.well-known/openid-configuration`, {
    dispatcher: agent,
  });
  const metadata = (await discovery.body.json()) as Record<string, string>;
  const headers = {
    authorization: `Basic ${Buffer.from(`${settings.clientId}:${settings.clientSecret}`).toString('base64')}`,
    'content-type': 'application/x-www-form-urlencoded',
  };
  const redirectUri = `${baseUrl}/callback`;
  const verifiers = new Map<string, string>();
  const app = baseApp();
  app.get('/login', async (_req, res) => {
    const state = randomBytes(32).toString('base64url');
    const verifier = randomBytes(32).toString('base64url');
    verifiers.set(state, verifier);
    const pushed = await request(metadata.pushed_authorization_request_endpoint!, {
      dispatcher: agent,
      method: 'POST',
      headers,
      body: new URLSearchParams({
        response_type: 'code',
        client_id: settings.clientId,
        redirect_uri: redirectUri,
        scope: 'openid profile email',
        state,
        nonce: state,
        code_challenge: createHash('sha256').update(verifier).digest('base64url'),
        code_challenge_method: 'S256',
      }).toString(),
    });
    const { request_uri: requestUri } = (await pushed.body.json()) as { request_uri: string };
    res.redirect(
      303,
      `${metadata.authorization_endpoint}?client_id=${encodeURIComponent(settings.clientId)}&request_uri=${encodeURIComponent(requestUri)}`,
    );
  });
  app.get('/callback', async (req, res) => {
    const state = typeof req.query.state === 'string' ? req.query.state : '';
    const verifier = verifiers.get(state) ?? '';
    verifiers.delete(state);
    const tokens = await request(metadata.token_endpoint!, {
      dispatcher: agent,
      method: 'POST',
      headers,
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: typeof req.query.code === 'string' ? req.query.code : '',
        redirect_uri: redirectUri,
        code_verifier: verifier,
      }).toString(),
    });
    await tokens.body.json();
    res.redirect(303, '/');
  });
  return { handler: app, close: () => agent.close() };
}

/** Idle lifetime of a session in the bare app's TTL store: ours's default idle timeout. */
const BARE_TTL_SECONDS = 1800;

/**
 * express-session with ours's settings (and cookie name and secret, so that the same cookie
 * works on both), and a route that checks the same session field ours checks.
 */
export async function bareSessionApp(
  secret: string,
  cookieName: string,
  storeKind: BareStore,
): Promise<BuiltApp> {
  const redis =
    storeKind.kind === 'redis'
      ? await (await import('redis')).createClient({ url: storeKind.url }).connect()
      : undefined;
  const store =
    redis !== undefined
      ? new (await import('connect-redis')).RedisStore({ client: redis, prefix: 'bare:' })
      : storeKind.kind === 'ttl-memory'
        ? new TtlMemoryStore(() => BARE_TTL_SECONDS)
        : new session.MemoryStore();
  const app = baseApp();
  app.use(
    session({
      name: cookieName,
      secret,
      store,
      resave: false,
      saveUninitialized: false,
      rolling: false,
      unset: 'destroy',
      cookie: { httpOnly: true, sameSite: 'lax', secure: false, path: '/', maxAge: 28_800_000 },
    }),
  );
  app.get('/private', (req, res) => {
    const user = req.session.parLogin?.user;
    if (user === undefined) return void res.status(401).json({ error: 'unauthenticated' });
    res.json({ sub: user.claims.sub });
  });
  return {
    handler: app,
    close: async () => {
      await redis?.close();
      if (store instanceof TtlMemoryStore) store.close();
    },
    seed: (sid, json) =>
      new Promise<void>((resolve, reject) => {
        // connect-redis's set also returns a promise; it settles through the callback.
        void store.set(sid, JSON.parse(json) as session.SessionData, (err?: Error) =>
          err ? reject(err) : resolve(),
        );
      }),
  };
}
