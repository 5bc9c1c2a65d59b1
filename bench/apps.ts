/**
 * The Express apps under test. Every app answers `GET /private` with the same body,
 * `{"sub":"alice"}`, when the request is logged in:
 * - `ours`: parLogin() and requireLogin();
 * - `eoc`: express-openid-connect with PAR, the alternative users pick today;
 * - `bare`: no session at all (the ceiling of any logged-in route);
 * - `bare-session`: express-session with the same settings as ours (the ceiling of any
 *   session-backed route), with express-session's MemoryStore, ours's TTL memory store, or Redis;
 * - `floor`: the protocol steps of a login and nothing else (the floor of scenarios 1 and 3): `/login`
 *   pushes (client_secret_basic, private_key_jwt, JAR or DPoP, as ours) and redirects, `/callback`
 *   exchanges the code and redirects; no check, no session.
 *
 * `ours` and `bare-session` also answer `GET /page` with the same HTML page ({@link renderPage}),
 * rendered from the logged-in user's claims: what a real app's page behind a login costs.
 *
 * @module
 */
import { createECDH, createHash, randomBytes, type JsonWebKey } from 'node:crypto';
import type { RequestListener } from 'node:http';
import express from 'express';
import type { Dispatcher, request as UndiciRequest } from 'undici';
import type { ConfigParams } from 'express-openid-connect';
import session from 'express-session';
import type { ParLoginContext } from '../src/context.js';
import { parLogin, requireLogin, type ParLoginOptions } from '../src/index.js';
import { INTERNAL_CONTEXT } from '../src/par-login.js';
import { TtlMemoryStore } from '../src/session/memory-store.js';
import { storedSessionCookie } from '../src/session/cookies.js';
import { assertionClaims, es256Signer, requestObjectClaims } from './assertions.js';
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

const HTML_ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** `text` safe inside HTML text and quoted attribute values (&, <, >, ", '). */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

/** A claim as table text: epoch seconds as ISO dates for the time claims, absent ones as `—`. */
function claimText(name: string, value: unknown): string {
  if (value === undefined || value === null) return '—';
  if ((name === 'iat' || name === 'auth_time') && typeof value === 'number')
    return new Date(value * 1000).toISOString();
  return typeof value === 'string' ? value : JSON.stringify(value);
}

const PAGE_CLAIMS: ReadonlyArray<[string, string]> = [
  ['sub', 'Subject'],
  ['name', 'Name'],
  ['email', 'Email'],
  ['email_verified', 'Email verified'],
  ['iat', 'ID token issued at'],
  ['auth_time', 'Authenticated at'],
];

/**
 * The page both apps answer `GET /page` with (about 3 KB): a layout with head, title and nav, a
 * greeting with the escaped `name`, a table of a few claims, and static text; the same bytes for the
 * same claims, whichever way the app reached them.
 */
export function renderPage(claims: Readonly<Record<string, unknown>>): string {
  const name = escapeHtml(typeof claims.name === 'string' ? claims.name : String(claims.sub));
  const rows = PAGE_CLAIMS.map(
    ([claim, label]) =>
      `<tr><th scope="row">${label}</th><td><code>${escapeHtml(claimText(claim, claims[claim]))}</code></td></tr>`,
  ).join('\n          ');
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>Your account · Example App</title>
    <link rel="stylesheet" href="/static/app.css">
    <link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
  </head>
  <body>
    <header class="site-header">
      <a class="brand" href="/">Example App</a>
      <nav aria-label="Main">
        <ul>
          <li><a href="/">Home</a></li>
          <li><a href="/projects">Projects</a></li>
          <li><a href="/reports">Reports</a></li>
          <li><a href="/page" aria-current="page">Account</a></li>
          <li><a href="/logout">Log out</a></li>
        </ul>
      </nav>
    </header>
    <main>
      <h1>Hello, ${name}!</h1>
      <p class="lead">You are logged in. This page shows what the app knows about you: the claims of the
        ID token your identity provider issued at your last login.</p>
      <section aria-labelledby="claims-heading">
        <h2 id="claims-heading">Your claims</h2>
        <table class="claims">
          <thead><tr><th scope="col">Claim</th><th scope="col">Value</th></tr></thead>
          <tbody>
          ${rows}
          </tbody>
        </table>
      </section>
      <section aria-labelledby="about-heading">
        <h2 id="about-heading">About your session</h2>
        <p>Your session is kept on the server; your browser holds only a cookie that names it. The tokens
          the identity provider issued never reach your browser: the app uses them on your behalf when it
          calls other services, and refreshes them when they expire.</p>
        <p>Your session ends when you log out, after a period without activity, or when you log out at your
          identity provider. To change your name or email address, update your profile there: the app
          shows the new values after your next login.</p>
      </section>
      <section aria-labelledby="help-heading">
        <h2 id="help-heading">Need help?</h2>
        <p>Read the <a href="/help/accounts">account help pages</a> or <a href="/help/contact">contact
          support</a>. Please never send your password to anyone, including support staff.</p>
      </section>
    </main>
    <footer class="site-footer">
      <p>&copy; Example App. <a href="/privacy">Privacy</a> · <a href="/terms">Terms</a></p>
    </footer>
  </body>
</html>
`;
}

/** Our middleware, as an app mounts it. */
export function oursApp(options: ParLoginOptions): BuiltApp {
  const app = baseApp();
  const middleware = parLogin(options);
  app.use(middleware);
  app.get('/', (_req, res) => void res.type('text').send('home'));
  app.get('/private', requireLogin(), (req, res) => void res.json({ sub: req.auth.claims!.sub }));
  app.get('/page', requireLogin(), (req, res) => void res.type('html').send(renderPage(req.auth.claims!)));
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

/** A pending login of the floor app: its PKCE verifier and, with DPoP, the login's private key. */
interface FloorLogin {
  verifier: string;
  dpopJwk?: JsonWebKey;
}

/** The floor's P-256 key generator: `generateKeys()` gives it a new key pair on each call. */
const p256 = createECDH('prime256v1');

/**
 * A fresh P-256 key for one login, the cheapest way node:crypto makes one (an ECDH key pair on the
 * curve, about a quarter of `generateKeyPairSync`'s cost), as a private JWK, and the RFC 7638
 * thumbprint of its public part: SHA-256 of the required members in lexicographic order, base64url.
 */
function newDpopKey(): { jkt: string; privateJwk: JsonWebKey } {
  p256.generateKeys();
  const point = p256.getPublicKey(); // 04 || X || Y
  const x = point.subarray(1, 33).toString('base64url');
  const y = point.subarray(33).toString('base64url');
  const scalar = p256.getPrivateKey();
  const d = Buffer.concat([Buffer.alloc(32 - scalar.length), scalar]).toString('base64url');
  const members = JSON.stringify({ crv: 'P-256', kty: 'EC', x, y });
  return {
    jkt: createHash('sha256').update(members).digest('base64url'),
    privateJwk: { kty: 'EC', crv: 'P-256', x, y, d },
  };
}

const FORM_TYPE = 'application/x-www-form-urlencoded';
const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/**
 * The floor's client authentication, as headers and form parameters of each back-channel request:
 * Basic credentials (headers made once), or a client assertion signed for each request (RFC 7523).
 */
interface FloorAuth {
  headers: Record<string, string>;
  form(): Record<string, string>;
}

const NO_FORM: Readonly<Record<string, string>> = Object.freeze({});

function floorAuth(settings: FloorSettings): FloorAuth {
  if (settings.method === 'jwt' || settings.method === 'jar') {
    const sign = es256Signer(settings.privateJwk, 'JWT');
    return {
      headers: { 'content-type': FORM_TYPE },
      form: () => ({
        client_assertion_type: JWT_BEARER,
        client_assertion: sign(assertionClaims(settings.clientId, settings.issuer)),
      }),
    };
  }
  const credentials = Buffer.from(`${settings.clientId}:${settings.clientSecret}`).toString('base64');
  return {
    headers: { authorization: `Basic ${credentials}`, 'content-type': FORM_TYPE },
    form: () => NO_FORM,
  };
}

/**
 * The form the floor pushes for a login, from its authorization parameters, as ours pushes it: the
 * parameters (with `dpop_jkt` for DPoP), or `client_id` and a request object signed now (JAR).
 */
function floorPushForm(
  settings: FloorSettings,
): (params: Record<string, string>, login: FloorLogin) => Record<string, string> {
  switch (settings.method) {
    case 'basic':
    case 'jwt':
      return (params) => params;
    case 'dpop':
      return (params, login) => {
        const key = newDpopKey();
        login.dpopJwk = key.privateJwk;
        return { ...params, dpop_jkt: key.jkt };
      };
    case 'jar': {
      const sign = es256Signer(settings.privateJwk, 'oauth-authz-req+jwt');
      return (params) => ({
        client_id: settings.clientId,
        request: sign(requestObjectClaims(params, settings.clientId, settings.issuer)),
      });
    }
  }
}

/** What the floor's routes share: its client, the AS's endpoints, its agent and pending logins. */
interface Floor {
  settings: FloorSettings;
  redirectUri: string;
  metadata: Record<string, string>;
  agent: Dispatcher;
  request: typeof UndiciRequest;
  auth: FloorAuth;
  pushForm: ReturnType<typeof floorPushForm>;
  logins: Map<string, FloorLogin>;
}

/** `/login`: a fresh state and PKCE verifier, kept in a Map; the push; a redirect to the AS. */
function floorLogin(floor: Floor): express.RequestHandler {
  const { settings, metadata } = floor;
  return async (_req, res) => {
    const state = randomBytes(32).toString('base64url');
    const verifier = randomBytes(32).toString('base64url');
    const login: FloorLogin = { verifier };
    floor.logins.set(state, login);
    const params = {
      response_type: 'code',
      client_id: settings.clientId,
      redirect_uri: floor.redirectUri,
      scope: 'openid profile email',
      state,
      nonce: state,
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
    };
    const pushed = await floor.request(metadata.pushed_authorization_request_endpoint!, {
      dispatcher: floor.agent,
      method: 'POST',
      headers: floor.auth.headers,
      body: new URLSearchParams({ ...floor.pushForm(params, login), ...floor.auth.form() }).toString(),
    });
    const { request_uri: requestUri } = (await pushed.body.json()) as { request_uri: string };
    res.redirect(
      303,
      `${metadata.authorization_endpoint}?client_id=${encodeURIComponent(settings.clientId)}` +
        `&request_uri=${encodeURIComponent(requestUri)}`,
    );
  };
}

/** `/callback`: the code exchanged with the login's verifier, then a redirect home. */
function floorCallback(floor: Floor): express.RequestHandler {
  return async (req, res) => {
    const state = typeof req.query.state === 'string' ? req.query.state : '';
    const verifier = floor.logins.get(state)?.verifier ?? '';
    floor.logins.delete(state);
    const tokens = await floor.request(floor.metadata.token_endpoint!, {
      dispatcher: floor.agent,
      method: 'POST',
      headers: floor.auth.headers,
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        code: typeof req.query.code === 'string' ? req.query.code : '',
        redirect_uri: floor.redirectUri,
        code_verifier: verifier,
        ...floor.auth.form(),
      }).toString(),
    });
    await tokens.body.json();
    res.redirect(303, '/');
  };
}

/**
 * The least an Express app can do for a complete PAR login (the floor of scenarios 1 and 3, not a
 * client anyone should run): no ID token validation, no iss or state binding beyond a lookup, no
 * session. Its login start pushes as ours does with `settings.method`, signing what it needs per
 * login; only scenario 3 calls `/callback` (with `basic`): the DPoP floor's sends no DPoP proof.
 */
export async function floorApp(baseUrl: string, settings: FloorSettings): Promise<BuiltApp> {
  const { Agent, request } = await import('undici');
  const agent = new Agent({ keepAliveTimeout: 30_000 });
  const discovery = await request(`${settings.issuer}/.well-known/openid-configuration`, {
    dispatcher: agent,
  });
  const floor: Floor = {
    settings,
    redirectUri: `${baseUrl}/callback`,
    metadata: (await discovery.body.json()) as Record<string, string>,
    agent,
    request,
    auth: floorAuth(settings),
    pushForm: floorPushForm(settings),
    logins: new Map(),
  };
  const app = baseApp();
  app.get('/login', floorLogin(floor));
  app.get('/callback', floorCallback(floor));
  return { handler: app, close: () => agent.close() };
}

/** Idle lifetime of a session in the bare app's TTL store: ours's default idle timeout. */
const BARE_TTL_SECONDS = 1800;
/** The bare apps' cookie lifetime: ours's default absolute session lifetime (8 hours). */
const BARE_COOKIE_MAX_AGE_MS = 28_800_000;

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
        ? new TtlMemoryStore(() => BARE_TTL_SECONDS, {
            // The cookie below, as ours gives its store its own (src/session/session-store.ts).
            cookie: (expiresMs) => storedSessionCookie(BARE_COOKIE_MAX_AGE_MS, false, expiresMs),
          })
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
      cookie: { httpOnly: true, sameSite: 'lax', secure: false, path: '/', maxAge: BARE_COOKIE_MAX_AGE_MS },
    }),
  );
  app.get('/private', (req, res) => {
    const user = req.session.parLogin?.user;
    if (user === undefined) return void res.status(401).json({ error: 'unauthenticated' });
    res.json({ sub: user.claims.sub });
  });
  app.get('/page', (req, res) => {
    const user = req.session.parLogin?.user;
    if (user === undefined) return void res.status(401).json({ error: 'unauthenticated' });
    res.type('html').send(renderPage(user.claims));
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
