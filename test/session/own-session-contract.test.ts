/**
 * The session `parLogin()` runs itself keeps express-session's contract: every scenario below runs
 * through express-session (configured as `parLogin()` configured it before it ran its own) and
 * through `createOwnSession().middleware`, over stores that record every call, and both must answer
 * the same responses, set the same cookies, make the same store calls and keep the same records.
 */
import { describe, expect, it } from '@jest/globals';
import express, { type RequestHandler } from 'express';
import session from 'express-session';
import request from 'supertest';
import { resolveConfig, type ResolvedConfig } from '../../src/config/resolve-config.js';
import { createOwnSession } from '../../src/session/own-session.js';
import { compactSessionIds, signSessionId } from '../../src/session/session-id.js';

type Done = (err?: unknown, value?: unknown) => void;

/** A MemoryStore that records each call (its operation and the session id's label). */
class RecordingStore extends session.MemoryStore {
  readonly calls: string[] = [];
  readonly #labels = new Map<string, string>();
  failGet = false;
  failSet = false;
  setDelayMs = 0;

  label(sid: string): string {
    if (!this.#labels.has(sid)) this.#labels.set(sid, `s${this.#labels.size + 1}`);
    return this.#labels.get(sid)!;
  }

  override get(sid: string, callback: (err: unknown, sess?: session.SessionData | null) => void): void {
    this.calls.push(`get ${this.label(sid)}`);
    if (this.failGet) return void setImmediate(callback, new Error('store down'));
    super.get(sid, callback);
  }

  override set(sid: string, sess: session.SessionData, callback?: Done): void {
    this.calls.push(`set ${this.label(sid)}`);
    if (this.failSet) return void setImmediate(() => callback?.(new Error('store down')));
    setTimeout(() => super.set(sid, sess, callback), this.setDelayMs);
  }

  override touch(sid: string, sess: session.SessionData, callback?: Done): void {
    this.calls.push(`touch ${this.label(sid)}`);
    super.touch(sid, sess, callback);
  }

  override destroy(sid: string, callback?: Done): void {
    this.calls.push(`destroy ${this.label(sid)}`);
    super.destroy(sid, callback);
  }

  /** The stored records by label, their cookie's expiry left out. */
  records(): Record<string, unknown> {
    const records: Record<string, unknown> = {};
    const all = (this as unknown as { sessions: Record<string, string> }).sessions;
    for (const [sid, json] of Object.entries(all)) {
      const { cookie, ...data } = JSON.parse(json) as { cookie: Record<string, unknown> };
      // A millisecond may pass inside express-session's Cookie while it restarts the lifetime.
      const originalMaxAge = Math.round((cookie.originalMaxAge as number) / 1000);
      records[this.label(sid)] = {
        ...data,
        cookie: { ...cookie, expires: typeof cookie.expires, originalMaxAge },
      };
    }
    return records;
  }
}

/** The records the own session logged in the last run. */
const logged: Array<Record<string, unknown>> = [];

function configFor(secure: boolean, secrets = ['s'.repeat(32)]): ResolvedConfig {
  const log = (record: Record<string, unknown>) => void logged.push(record);
  return resolveConfig({
    logger: { warn: log, error: log },
    issuer: 'https://as.example',
    clientId: 'app',
    clientSecret: 'secret',
    sessionSecret: secrets[0],
    ...(secrets.length > 1 ? { previousSessionSecrets: secrets.slice(1) } : {}),
    baseUrl: secure ? 'https://app.example' : 'http://127.0.0.1:3000',
  });
}

/** express-session as parLogin() configured it before it ran its own session. */
function expressSession(config: ResolvedConfig, store: session.Store): RequestHandler {
  return session({
    name: config.sessionCookieName,
    secret: [...config.sessionSecrets],
    genid: compactSessionIds(config.sessionCookieName, config.sessionSecret),
    store,
    resave: false,
    saveUninitialized: false,
    rolling: false,
    unset: 'destroy',
    ...(config.secure ? { proxy: true } : {}),
    cookie: {
      httpOnly: true,
      sameSite: 'lax',
      secure: config.secure,
      path: '/',
      maxAge: config.sessionAbsoluteTimeoutSeconds * 1000,
    },
  });
}

type Route = (req: express.Request, res: express.Response) => void;

/** What one implementation did for one scenario, with session ids replaced by their labels. */
interface Outcome {
  status: number;
  body: string;
  cookies: string[];
  calls: string[];
  records: Record<string, unknown>;
}

const SEEDED = { parLogin: { user: { sub: 'alice' } }, visits: 1 };

/** Run `route` behind `middleware`, for a browser with the cookie of a seeded session (or `cookie`). */
async function run(
  kind: 'express-session' | 'own',
  scenario: {
    route: Route;
    cookie?: 'seeded' | 'none' | 'forged' | 'unknown' | 'old-secret';
    secure?: boolean;
    method?: 'get' | 'head';
    prepare?: (store: RecordingStore) => void;
  },
): Promise<Outcome> {
  const secure = scenario.secure ?? false;
  logged.length = 0;
  const secrets = ['s'.repeat(32), 'o'.repeat(32)];
  const config = configFor(secure, secrets);
  const store = new RecordingStore();
  const middleware =
    kind === 'own'
      ? createOwnSession(config, { store, kind: 'app', ready: async () => {}, close: async () => {} })
          .middleware
      : expressSession(config, store);
  const seededId = 'seeded-session-id-0000';
  const cookieOf = (id: string, secret: string) =>
    `${config.sessionCookieName}=${encodeURIComponent(`s:${id}.${signSessionId(id, secret)}`)}`;
  const cookieMaxAge = config.sessionAbsoluteTimeoutSeconds * 1000;
  const seededCookie = {
    originalMaxAge: cookieMaxAge,
    expires: new Date(Date.now() + cookieMaxAge).toISOString(),
    secure,
    httpOnly: true,
    path: '/',
    sameSite: 'lax',
  };
  store.label(seededId);
  await new Promise((resolve) => store.set(seededId, { cookie: seededCookie, ...SEEDED } as never, resolve));
  store.calls.length = 0;
  scenario.prepare?.(store);
  const app = express();
  app.use(middleware);
  app.all('/', scenario.route);
  app.use(
    (
      err: Error,
      _req: express.Request,
      res: express.Response,
      // eslint-disable-next-line @typescript-eslint/no-unused-vars -- Express knows an error handler by its four parameters
      _next: express.NextFunction,
    ) => void res.status(500).send(`error: ${err.message}`),
  );
  const cookies = {
    seeded: cookieOf(seededId, secrets[0]!),
    'old-secret': cookieOf(seededId, secrets[1]!),
    forged: cookieOf(seededId, 'x'.repeat(32)),
    unknown: cookieOf('no-such-session-000000', secrets[0]!),
    none: undefined,
  };
  const sent = cookies[scenario.cookie ?? 'seeded'];
  let call = request(app)[scenario.method ?? 'get']('/');
  if (sent !== undefined) call = call.set('Cookie', sent);
  if (secure) call = call.set('X-Forwarded-Proto', 'https');
  const response = await call;
  await new Promise((resolve) => setTimeout(resolve, 20)); // store calls made after the response
  const setCookies = ([] as string[]).concat(response.headers['set-cookie'] ?? []);
  return {
    status: response.status,
    body: (response.text ?? '').replace(/"expires":"[^"]+"/g, '"expires":"<date>"'),
    cookies: setCookies.map((value) =>
      value
        .replace(/=s%3A([\w-]+)\.[^;]+/, (_m, id: string) => `=s:${store.label(id)}.<signature>`)
        .replace(/Expires=[^;]+/, 'Expires=<date>'),
    ),
    calls: store.calls,
    records: store.records(),
  };
}

async function expectSameOutcome(scenario: Parameters<typeof run>[1]): Promise<Outcome> {
  const expected = await run('express-session', scenario);
  const actual = await run('own', scenario);
  expect(actual).toEqual(expected);
  return actual;
}

/** The test's own member of the session. */
const data = (req: express.Request) => req.session as unknown as { visits: number };

const json = (req: express.Request) =>
  JSON.stringify({ ...req.session, sessionIdType: typeof req.sessionID });

describe('the own session keeps express-session’s contract', () => {
  it.each([
    ['reads a loaded session and touches it', 'seeded', (req, res) => void res.send(json(req))],
    [
      'changes a loaded session: saves it and sends the cookie again',
      'seeded',
      (req, res) => {
        data(req).visits += 1;
        res.send(json(req));
      },
    ],
    [
      'adds a nested member',
      'seeded',
      (req, res) => {
        (req.session as unknown as { parLogin: { user: { name?: string } } }).parLogin.user.name = 'Alice';
        res.send('ok');
      },
    ],
    [
      'sends no cookie and keeps nothing for an unused new session',
      'none',
      (req, res) => void res.send(json(req)),
    ],
    [
      'saves a new session once it holds data',
      'none',
      (req, res) => {
        data(req).visits = 1;
        res.send('ok');
      },
    ],
    ['ignores a cookie with a bad signature', 'forged', (req, res) => void res.send(json(req))],
    [
      'starts anew for a cookie of an unknown session',
      'unknown',
      (req, res) => {
        data(req).visits = 5;
        res.send('ok');
      },
    ],
    ['loads a cookie signed with a previous secret', 'old-secret', (req, res) => void res.send(json(req))],
    [
      'regenerates: destroys the old record, saves and sends the new one',
      'seeded',
      (req, res) => {
        req.session.regenerate((err) => {
          if (err) return void res.status(500).end();
          data(req).visits = 9;
          res.send(json(req));
        });
      },
    ],
    [
      'destroys',
      'seeded',
      (req, res) => {
        req.session.destroy(() => void res.send(String(req.session === undefined)));
      },
    ],
    [
      'destroys a session the app unset',
      'seeded',
      (req, res) => {
        (req as unknown as { session: null }).session = null;
        res.send('unset');
      },
    ],
    [
      'saves explicitly, then answers without a second save',
      'seeded',
      (req, res) => {
        data(req).visits = 2;
        req.session.save(() => void res.redirect(303, '/next'));
      },
    ],
    [
      'reloads from the store',
      'seeded',
      (req, res) => {
        data(req).visits = 7;
        req.session.reload(() => void res.send(json(req)));
      },
    ],
    [
      'writes the body in parts',
      'seeded',
      (req, res) => {
        data(req).visits = 3;
        res.write('part one, ');
        res.end('part two');
      },
    ],
    [
      'writes its head before it ends',
      'seeded',
      (req, res) => {
        data(req).visits = 6;
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        res.end('after the head');
      },
    ],
  ] as Array<[string, 'seeded' | 'none' | 'forged' | 'unknown' | 'old-secret', Route]>)(
    '%s',
    async (_name, cookie, route) => {
      const outcome = await expectSameOutcome({ route, cookie });
      expect(outcome.status).toBeLessThan(500);
    },
  );

  it('answers HEAD requests alike', async () => {
    await expectSameOutcome({
      method: 'head',
      route: (req, res) => {
        data(req).visits = 8;
        res.send('a body HEAD does not send');
      },
    });
  });

  it.each([true, false])('sets the Secure cookie on https alike (https: %s)', async (secure) => {
    const outcome = await expectSameOutcome({
      secure,
      cookie: 'none',
      route: (req, res) => {
        data(req).visits = 1;
        res.send('ok');
      },
    });
    expect(outcome.cookies).toHaveLength(1);
    expect(outcome.cookies[0]!.includes('; Secure')).toBe(secure);
  });

  it('ends a response ended with a callback once the new session is saved', async () => {
    let called = false;
    const outcome = await run('own', {
      cookie: 'none',
      route: (req, res) => {
        data(req).visits = 4;
        res.end(() => (called = true));
      },
    });
    expect(outcome.status).toBe(200);
    expect(outcome.calls).toEqual(['set s2']);
    expect(outcome.cookies).toEqual([
      expect.stringMatching(/^parlogin=s:s2\.<signature>; Path=\/; Expires=<date>; HttpOnly; SameSite=Lax$/),
    ]);
    expect(called).toBe(true);
  });

  // express-session (unset: 'destroy') destroys, at the end of the response, the session it failed
  // to read; parLogin() cleared req.sessionID to stop it. The own session never does.
  it('passes a failed load to next, and neither destroys nor touches the session', async () => {
    const outcome = await run('own', {
      route: (_req, res) => void res.send('not reached'),
      prepare: (store) => (store.failGet = true),
    });
    expect(outcome.status).toBe(500);
    expect(outcome.body).toBe('error: store down');
    expect(outcome.calls).toEqual(['get s1']);
    expect(Object.keys(outcome.records)).toEqual(['s1']);
  });

  it('logs a store that fails to save after the response began, and ends the response', async () => {
    const outcome = await run('own', {
      prepare: (store) => (store.failSet = true),
      route: (req, res) => {
        data(req).visits = 2;
        res.send('answered');
      },
    });
    expect(outcome).toMatchObject({ status: 200, body: 'answered', calls: ['get s1', 'set s1'] });
    expect(logged).toEqual([
      expect.objectContaining({
        code: 'session_store_unavailable',
        status: 503,
        error: 'The session store failed to save the session.',
        cause: expect.stringContaining('store down') as unknown,
        method: 'GET',
        path: '/',
      }),
    ]);
  });

  it('holds the response until the store has saved the session', async () => {
    for (const kind of ['express-session', 'own'] as const) {
      let savedAt = 0;
      const outcome = await run(kind, {
        prepare: (store) => {
          store.setDelayMs = 150;
          const set = store.set.bind(store);
          store.set = (sid, sess, callback) =>
            set(sid, sess, (err?: unknown) => {
              savedAt = Date.now();
              callback?.(err);
            });
        },
        route: (req, res) => {
          data(req).visits = 2;
          res.send('saved before you read this');
        },
      });
      expect(outcome.body).toBe('saved before you read this');
      expect(savedAt).toBeGreaterThan(0);
    }
  });
});
