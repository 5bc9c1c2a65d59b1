/**
 * The headers and shapes of the middleware's answers: `Cache-Control: no-store` on every route it
 * answers, success or failure; `Referrer-Policy: no-referrer` on the callback (its URL holds the
 * code); JSON `{error, error_description, correlation_id}` for API callers; an escaped HTML page for
 * browser navigations; and with `renderErrors: false`, the app's own error handler gets the error.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import express from 'express';
import { PAR_LOGIN_LOCAL } from '../../sample-app/app.js';
import { parLogin, type ParLoginOptions } from '../../src/index.js';
import { foreignTags } from '../helpers/fuzz-query.js';
import { startHostileAs, type HostileAs } from '../helpers/hostile-as.js';
import {
  FETCH_HEADERS,
  startHostileApp,
  trackUnhandledRejections,
  walkToCallback,
  type HostileApp,
} from '../helpers/hostile-stack.js';

const GENERIC_5XX = 'The sign-in service is not available right now. Please try again in a moment.';
const MISCONFIGURED =
  "Sign-in is not set up correctly for this site, so trying again will not help. The site's operators " +
  'can find the cause in their logs under the reference below.';

let tracker: ReturnType<typeof trackUnhandledRejections>;
let as: HostileAs;
let app: HostileApp | undefined;

beforeAll(async () => {
  tracker = trackUnhandledRejections();
  as = await startHostileAs();
});
afterEach(async () => {
  await app?.close();
  app = undefined;
  as.reset();
});
afterAll(async () => {
  await as.close();
  tracker.stop();
});

describe('Cache-Control and Referrer-Policy', () => {
  it('marks /login, /callback and /me no-store, success and failure alike, and the callback no-referrer', async () => {
    app = await startHostileApp(as);
    const browser = app.browser();
    const anonymousMe = await browser.request(`${app.url}/me`, { headers: FETCH_HEADERS });
    const login = await browser.navigate(`${app.url}/login?returnTo=/profile`);
    const callbackUrl = await walkToCallback(app, browser, '/profile');
    const callback = await browser.navigate(callbackUrl);
    const replay = await browser.navigate(callbackUrl);
    const noState = await browser.request(`${app.url}/callback`, { headers: FETCH_HEADERS });
    const me = await browser.request(`${app.url}/me`, { headers: FETCH_HEADERS });
    as.script.par = { status: 500 };
    const failedLogin = await browser.navigate(`${app.url}/login`);

    const answers = { anonymousMe, login, callback, replay, noState, me, failedLogin };
    expect(Object.fromEntries(Object.entries(answers).map(([name, hop]) => [name, hop.status]))).toEqual({
      anonymousMe: 401,
      login: 303,
      callback: 303,
      replay: 400,
      noState: 400,
      me: 200,
      failedLogin: 502,
    });
    for (const [name, hop] of Object.entries(answers))
      expect([name, hop.headers['cache-control']]).toEqual([name, 'no-store']);
    for (const hop of [callback, replay, noState]) expect(hop.headers['referrer-policy']).toBe('no-referrer');
  });

  it('marks a callback that fails at the token endpoint no-store and no-referrer', async () => {
    as.script.token = { status: 400, body: { error: 'invalid_grant' } };
    app = await startHostileApp(as);
    const browser = app.browser();
    const failed = await browser.navigate(await walkToCallback(app, browser));
    expect(failed.status).toBe(502);
    expect(failed.headers['cache-control']).toBe('no-store');
    expect(failed.headers['referrer-policy']).toBe('no-referrer');
  });
});

describe('error answers', () => {
  it.each<[string, 'json' | 'html', Record<string, string | null>]>([
    ['a fetch (Sec-Fetch-Mode: cors)', 'json', { ...FETCH_HEADERS }],
    ['a fetch that accepts HTML', 'json', { accept: 'text/html', 'sec-fetch-mode': 'cors' }],
    [
      'an API client without Sec-Fetch headers',
      'json',
      { accept: 'application/json', 'sec-fetch-mode': null, 'sec-fetch-site': null, 'sec-fetch-dest': null },
    ],
    [
      'an old browser navigation (Accept: text/html only)',
      'html',
      { 'sec-fetch-mode': null, 'sec-fetch-site': null, 'sec-fetch-dest': null },
    ],
    ['a browser navigation', 'html', {}],
  ])('answers %s with %s', async (_name, kind, headers) => {
    app = await startHostileApp(as);
    const hop = await app.browser().request(`${app.url}/callback?state=unknown`, { headers });
    expect(hop.status).toBe(400);
    expect(hop.headers['content-type']).toMatch(kind === 'json' ? /^application\/json/ : /^text\/html/);
  });

  it('gives API callers {error, error_description, correlation_id}, plus a hint only for 4xx', async () => {
    app = await startHostileApp(as);
    const browser = app.browser();
    const bad = JSON.parse(
      (await browser.request(`${app.url}/callback?code=x`, { headers: FETCH_HEADERS })).body,
    ) as Record<string, unknown>;
    expect(Object.keys(bad).sort()).toEqual(['correlation_id', 'error', 'error_description', 'hint']);
    expect(bad).toMatchObject({
      error: 'state_missing',
      error_description: expect.any(String),
      hint: expect.any(String),
      correlation_id: expect.any(String),
    });
    as.script.par = {
      status: 400,
      body: { error: 'invalid_client', error_description: 'client secret mismatch for hostile-client' },
    };
    const faulty = JSON.parse(
      (await browser.request(`${app.url}/login`, { headers: FETCH_HEADERS })).body,
    ) as Record<string, unknown>;
    expect(Object.keys(faulty).sort()).toEqual(['correlation_id', 'error', 'error_description']);
    // The client's registration is wrong: trying again will not help, and the page says so.
    expect(faulty).toMatchObject({ error: 'par_error', error_description: MISCONFIGURED });
    expect(faulty.correlation_id).not.toBe(bad.correlation_id);
    as.script.par = { status: 503, body: { error: 'temporarily_unavailable' } };
    const passing = JSON.parse(
      (await browser.request(`${app.url}/login`, { headers: FETCH_HEADERS })).body,
    ) as Record<string, unknown>;
    expect(passing).toMatchObject({ error: 'par_error', error_description: GENERIC_5XX });
  });

  it('shows browsers an escaped page: nothing from the query or the AS becomes markup', async () => {
    app = await startHostileApp(as);
    const browser = app.browser();
    const callbackUrl = new URL(await walkToCallback(app, browser));
    callbackUrl.searchParams.delete('code');
    callbackUrl.searchParams.set('error', '"><svg onload=alert(1)>');
    callbackUrl.searchParams.set('error_description', "<iframe src='javascript:alert(2)'>&amp;");
    const page = await browser.navigate(callbackUrl.href);
    expect(page.status).toBe(400);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(foreignTags(page.body)).toEqual([]);
    expect(page.body).toContain('&quot;&gt;&lt;svg onload=alert(1)&gt;');
    expect(page.body).toContain('&lt;iframe src=&#39;javascript:alert(2)&#39;&gt;&amp;amp;');
    expect(page.body).toMatch(/reference <code>[0-9a-f]+<\/code>/);
  });
});

describe('renderErrors: false', () => {
  interface Received {
    status: number;
    code: string;
    expose: boolean;
    correlationId: string;
    message: string;
  }

  /** An app with its own error handler after the middleware, recording what it receives. */
  function appWithHandler(received: Received[]) {
    return (options: ParLoginOptions) => {
      const own = express();
      const auth = parLogin({ ...options, renderErrors: false });
      own.locals[PAR_LOGIN_LOCAL] = auth;
      own.use(auth);
      own.get('/', (_req, res) => void res.send('home'));
      // eslint-disable-next-line @typescript-eslint/no-unused-vars -- Express knows an error handler by its four parameters
      own.use((err: Received, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
        received.push(err);
        res
          .status(err.status ?? 500)
          .type('text')
          .send(`handled ${err.code}`);
      });
      return own;
    };
  }

  it('hands 4xx and 5xx errors to the app with status, code, expose and the logged correlation id', async () => {
    const received: Received[] = [];
    app = await startHostileApp(as, {}, appWithHandler(received));
    const browser = app.browser();
    const missing = await browser.navigate(`${app.url}/callback`);
    as.script.par = { status: 503 };
    const down = await browser.navigate(`${app.url}/login`);
    expect([missing.body, down.body]).toEqual(['handled state_missing', 'handled par_error']);
    expect([missing.status, down.status]).toEqual([400, 502]);
    expect(received).toEqual([
      expect.objectContaining({ status: 400, code: 'state_missing', expose: true }),
      expect.objectContaining({ status: 502, code: 'par_error', expose: false }),
    ]);
    for (const err of received) {
      expect(err.correlationId).toMatch(/^[0-9a-f]+$/);
      expect(app.logs.filter((r) => r.id === err.correlationId)).toEqual([
        expect.objectContaining({ code: err.code }),
      ]);
    }
    expect((await browser.navigate(`${app.url}/`)).status).toBe(200);
  });
});

it('had no unhandled rejection', async () => {
  await new Promise((resolve) => setTimeout(resolve, 20));
  expect(tracker.reasons).toEqual([]);
});
