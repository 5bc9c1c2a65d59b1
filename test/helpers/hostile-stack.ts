/**
 * The app wired to a {@link HostileAs}, and the checks every hostile case repeats: a stable code,
 * the right status, the correlation id of the log record, no login afterwards, the app still
 * serving, and no unhandled rejection in the process.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import type { RequestListener } from 'node:http';
import { afterAll, afterEach, beforeAll, expect } from '@jest/globals';
import { createApp, PAR_LOGIN_LOCAL } from '../../sample-app/app.js';
import { listen } from '../../sample-app/listen.js';
import type { ParLoginMiddleware, ParLoginOptions } from '../../src/index.js';
import { Browser, type Hop } from './browser.js';
import { startHostileAs, type HostileAs } from './hostile-as.js';
import type { LogEntry } from './stack.js';

/** Headers of a `fetch()` from the app's own page: the middleware answers such requests with JSON. */
export const FETCH_HEADERS = Object.freeze({
  accept: 'application/json',
  'sec-fetch-mode': 'cors',
  'sec-fetch-dest': 'empty',
});

/** The app under test, listening on 127.0.0.1. */
export interface HostileApp {
  readonly url: string;
  readonly options: ParLoginOptions;
  /** Everything the middleware logged. */
  readonly logs: LogEntry[];
  readonly middleware: ParLoginMiddleware;
  /** A fresh browser (its own cookie jar). */
  browser(): Browser;
  close(): Promise<void>;
}

/**
 * Start an app (the sample app unless `build` is given) whose middleware talks to `as`.
 * Each call has its own discovery and JWKS caches.
 */
export async function startHostileApp(
  as: HostileAs,
  overrides: Partial<ParLoginOptions> = {},
  build: (options: ParLoginOptions) => RequestListener = createApp,
): Promise<HostileApp> {
  const server = await listen(0, '127.0.0.1');
  const logs: LogEntry[] = [];
  const options: ParLoginOptions = {
    issuer: as.issuer,
    clientId: as.clientId,
    clientSecret: as.clientSecret,
    baseUrl: server.url,
    sessionSecret: randomBytes(32).toString('base64url'),
    logger: {
      warn: (r) => void logs.push({ ...r, level: 'warn' }),
      error: (r) => void logs.push({ ...r, level: 'error' }),
    },
    ...overrides,
  };
  let app: RequestListener;
  try {
    app = build(options);
  } catch (err) {
    await server.close();
    throw err;
  }
  server.server.on('request', app);
  const middleware = (app as unknown as { locals: Record<string, unknown> }).locals[
    PAR_LOGIN_LOCAL
  ] as ParLoginMiddleware;
  return {
    url: server.url,
    options,
    logs,
    middleware,
    browser: () => new Browser({ issuer: as.issuer }),
    close: async () => {
      await server.close();
      await middleware.close();
    },
  };
}

/** A URL on 127.0.0.1 where nothing listens (connection refused). */
export async function refusedUrl(path = '/'): Promise<string> {
  const server = await listen(0, '127.0.0.1');
  await server.close();
  return server.url + path;
}

/** The error code and correlation id an error answer shows, from its JSON or its HTML page. */
export function failureOf(hop: Hop): { code: string | undefined; id: string | undefined } {
  if (String(hop.headers['content-type']).includes('json')) {
    const body = JSON.parse(hop.body) as { error?: string; correlation_id?: string };
    return { code: body.error, id: body.correlation_id };
  }
  const match = /Error <code>([^<]*)<\/code> · reference <code>([^<]*)<\/code>/.exec(hop.body);
  return { code: match?.[1], id: match?.[2] };
}

/**
 * Assert that `hop` is the middleware's answer to a failure with `code` and `status`, logged once
 * under the id the answer shows; that `browser` is not logged in; and that the app still serves.
 */
export async function expectCleanFailure(
  app: HostileApp,
  browser: Browser,
  hop: Hop,
  code: string,
  status: number,
): Promise<void> {
  expect({ status: hop.status, ...failureOf(hop) }).toMatchObject({ status, code });
  expect(hop.headers['cache-control']).toBe('no-store');
  const { id } = failureOf(hop);
  const records = app.logs.filter((r) => r.id === id);
  expect(records).toHaveLength(1);
  expect(records[0]).toMatchObject({ code, status, level: status < 500 ? 'warn' : 'error' });
  await expectLoggedOut(app, browser);
}

/** `browser` has no login at `app` (its /me answers 401), and the app's home page still answers 200. */
export async function expectLoggedOut(app: HostileApp, browser: Browser): Promise<void> {
  const me = await browser.request(`${app.url}/me`, { headers: FETCH_HEADERS });
  expect(me.status).toBe(401);
  const home = await browser.navigate(`${app.url}/`);
  expect(home.status).toBe(200);
}

/**
 * Start a login in `browser` and walk it through the hostile AS's authorization endpoint; stop
 * before the callback and return the callback URL the AS redirected to.
 */
export async function walkToCallback(app: HostileApp, browser: Browser, returnTo?: string): Promise<string> {
  const start = new URL(`${app.url}/login`);
  if (returnTo !== undefined) start.searchParams.set('returnTo', returnTo);
  const hops = await browser.follow(start.href, {
    stopBefore: (url) => url.origin === new URL(app.url).origin && url.pathname === '/callback',
  });
  const callback = hops.at(-1)?.location;
  if (callback === undefined || new URL(callback).pathname !== '/callback') {
    throw new Error(
      `the login did not reach the callback; last hop: ${hops.at(-1)?.status} ${hops.at(-1)?.url} ${hops.at(-1)?.body.slice(0, 200)}`,
    );
  }
  return callback;
}

/**
 * The process object of Node itself. Jest gives each test file a copy of `process` whose events
 * never fire; timers come from the host realm, and the host's `Function` evaluates in its scope.
 */
function hostProcess(): NodeJS.Process {
  const HostFunction = (setTimeout as unknown as { constructor: FunctionConstructor }).constructor;
  return (HostFunction('return process') as () => NodeJS.Process)();
}

/**
 * Record the process's unhandled rejections until `stop()`. Call it in `beforeAll`, not at module
 * level: jest-circus sets the process's own listeners aside when the run starts.
 */
export function trackUnhandledRejections(): { reasons: unknown[]; stop(): void } {
  const reasons: unknown[] = [];
  const listener = (reason: unknown): void => void reasons.push(reason);
  const host = hostProcess();
  host.on('unhandledRejection', listener);
  return { reasons, stop: () => void host.off('unhandledRejection', listener) };
}

/** A JSON body the hostile AS would send, for scripts that change it ({@link without}, {@link withField}). */
export type JsonBody = Record<string, unknown>;

/** A body script that drops the field `name` from the normal answer. */
export const without =
  (name: string) =>
  (body: JsonBody): JsonBody => ({ ...body, [name]: undefined });

/** A body script that sets the field `name` of the normal answer to `value`. */
export const withField =
  (name: string, value: unknown) =>
  (body: JsonBody): JsonBody => ({ ...body, [name]: value });

/** What {@link useHostileAs} keeps for a test file; read it inside tests and hooks (set in `beforeAll`). */
export interface HostileAsFixture {
  /** The scripted AS, one for the file; its scripts and recorded requests are reset after each test. */
  readonly as: HostileAs;
  /**
   * Start an app against the AS ({@link startHostileApp}), closed after the test that started it, or
   * after the file's last test (before the AS) with `lifetime` `'file'`.
   */
  startApp(overrides?: Partial<ParLoginOptions>, lifetime?: 'test' | 'file'): Promise<HostileApp>;
  /** The process's unhandled rejections since the file's `beforeAll` ({@link trackUnhandledRejections}). */
  readonly unhandledRejections: readonly unknown[];
}

/**
 * Register the hooks every hostile-AS test file shares: the process's unhandled rejections tracked
 * and the scripted AS started once for the file; after each test, the apps it started closed and
 * the AS's script reset; at the end, the file's apps and the AS closed and the tracking stopped.
 */
export function useHostileAs(): HostileAsFixture {
  let as: HostileAs | undefined;
  let tracker: ReturnType<typeof trackUnhandledRejections> | undefined;
  const apps: Record<'test' | 'file', HostileApp[]> = { test: [], file: [] };
  const closeAll = async (running: HostileApp[]): Promise<void> => {
    for (const app of running.splice(0)) await app.close();
  };
  const started = (): HostileAs => {
    if (as === undefined)
      throw new Error('useHostileAs: the AS starts in beforeAll; use the fixture in tests');
    return as;
  };
  beforeAll(async () => {
    tracker = trackUnhandledRejections();
    as = await startHostileAs();
  });
  afterEach(async () => {
    await closeAll(apps.test);
    as?.reset();
  });
  afterAll(async () => {
    await closeAll(apps.file);
    await as?.close();
    tracker?.stop();
  });
  return {
    get as() {
      return started();
    },
    async startApp(overrides = {}, lifetime = 'test') {
      const app = await startHostileApp(started(), overrides);
      apps[lifetime].push(app);
      return app;
    },
    get unhandledRejections() {
      return tracker?.reasons ?? [];
    },
  };
}

/** What {@link useHostileStack} keeps for a test file; read it inside tests (set in `beforeAll`). */
export interface HostileFixture {
  as: HostileAs;
  app: HostileApp;
}

/**
 * {@link useHostileAs} with one app for the whole file (started once against the AS), and at the
 * end, once both are closed, no unhandled rejection.
 */
export function useHostileStack(overrides: Partial<ParLoginOptions> = {}): HostileFixture {
  const hostile = useHostileAs();
  const fixture = {} as HostileFixture;
  beforeAll(async () => {
    fixture.as = hostile.as;
    fixture.app = await hostile.startApp(overrides, 'file');
  });
  // Runs after useHostileAs's afterAll (hooks run in the order registered): the app and AS are closed.
  afterAll(() => {
    expect(hostile.unhandledRejections).toEqual([]);
  });
  return fixture;
}
