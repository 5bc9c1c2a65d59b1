/**
 * What the middleware logs, against the real oidc-provider: full logins and a spread of failures
 * go through a capturing logger, then the captured records are searched for every secret value
 * the run produced (client secret, session secret and ids, authorization codes, access, ID and
 * refresh tokens, PKCE verifiers, states, nonces). Each failure record must carry its code and a
 * correlation id, the same id the user was shown.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import express from 'express';
import session from 'express-session';
import { PAR_LOGIN_LOCAL } from '../../sample-app/app.js';
import { parLogin, requireLogin, type ParLoginOptions } from '../../src/index.js';
import type { ParLoginSessionData } from '../../src/session/session.js';
import { tokensOf } from '../helpers/tokens.js';
import type { Browser, Hop } from '../helpers/browser.js';
import { failureOf, FETCH_HEADERS } from '../helpers/hostile-stack.js';
import { pendingLoginsOf } from '../helpers/middleware.js';
import { startStack, type Stack } from '../helpers/stack.js';

const FAILURE = 'express-par-login request failed';

/** The app mounts its own express-session with a store the test can read. */
function appWithStore(store: session.MemoryStore) {
  return (options: ParLoginOptions) => {
    const app = express();
    app.use(
      session({
        secret: options.sessionSecret!,
        store,
        name: 'app.sid',
        resave: false,
        saveUninitialized: false,
      }),
    );
    const auth = parLogin(options);
    app.locals[PAR_LOGIN_LOCAL] = auth;
    app.use(auth);
    app.get('/', (_req, res) => void res.send('home'));
    app.get(
      '/profile',
      requireLogin(),
      (req, res) => void res.send(`hello ${String(req.auth.claims!.name)}`),
    );
    return app;
  };
}

function sessionsOf(store: session.MemoryStore): Promise<Array<{ parLogin?: ParLoginSessionData }>> {
  return new Promise((resolve, reject) =>
    store.all((err: Error | null, all) => (err ? reject(err) : resolve(Object.values(all ?? {})))),
  );
}

describe('failure records', () => {
  const store = new session.MemoryStore();
  const browsers: Browser[] = [];
  /** Every failure answer the user saw, with the code expected. */
  const shown: Array<{ hop: Hop; code: string }> = [];
  let stack: Stack;
  /** Every debug trace record (tracing is on for this whole run). */
  const traces: Array<Record<string, unknown>> = [];

  const browser = (): Browser => {
    const created = stack.browser();
    browsers.push(created);
    return created;
  };
  const expectFailure = (hop: Hop, code: string): void => {
    expect(failureOf(hop).code).toBe(code);
    shown.push({ hop, code });
  };
  const withParam = (url: string, name: string, value: string | null): string => {
    const changed = new URL(url);
    if (value === null) changed.searchParams.delete(name);
    else changed.searchParams.set(name, value);
    return changed.href;
  };

  beforeAll(async () => {
    stack = await startStack({
      buildApp: appWithStore(store) as never,
      overrides: { debug: (record) => void traces.push(record) },
    });
    const app = stack.appUrl;

    for (const user of ['alice', 'bob']) {
      const done = await browser().login(app, { user, returnTo: '/profile' });
      expect(done.at(-1)!.body).toContain('Example');
    }

    const victim = browser();
    const first = (await victim.stepUntilCallback(app)).callbackUrl;
    expect((await victim.navigate(first)).status).toBe(303);
    expectFailure(await victim.navigate(first), 'state_used');
    expectFailure(
      await victim.request(withParam(first, 'state', 'x'.repeat(43)), { headers: FETCH_HEADERS }),
      'state_unknown',
    );

    for (const [name, value, code] of [
      ['iss', 'https://evil.example', 'iss_mismatch'],
      ['iss', null, 'iss_missing'],
      ['code', null, 'code_missing'],
      ['error', 'access_denied', 'authorization_error'],
    ] as const) {
      const { callbackUrl } = await victim.stepUntilCallback(app);
      expectFailure(await victim.navigate(withParam(callbackUrl, name, value)), code);
    }
    const { callbackUrl: repeated } = await victim.stepUntilCallback(app);
    expectFailure(
      await victim.request(`${repeated}&state=again`, { headers: FETCH_HEADERS }),
      'invalid_request',
    );

    // A real code from another browser, delivered with the victim's state: the AS refuses it (PKCE).
    const stolen = new URL((await browser().stepUntilCallback(app)).callbackUrl).searchParams.get('code')!;
    const { callbackUrl: own } = await victim.stepUntilCallback(app);
    expectFailure(await victim.navigate(withParam(own, 'code', stolen)), 'token_error');

    const loggedIn = browsers[0]!;
    expectFailure(
      await loggedIn.request(`${app}/logout`, {
        method: 'POST',
        body: '',
        initiator: 'https://evil.example',
      }),
      'csrf_rejected',
    );
    // An anonymous /me is an answer front ends poll for, not a failure: coded, traced, never logged.
    const recordsBefore = stack.logs.length;
    const anonymous = await browser().request(`${app}/me`, { headers: FETCH_HEADERS });
    expect(anonymous.status).toBe(401);
    expect(JSON.parse(anonymous.body)).toMatchObject({ error: 'unauthenticated' });
    expect(stack.logs.length).toBe(recordsBefore);
    expect(traces.at(-1)).toMatchObject({ step: 'me.anonymous' });
    const page = await loggedIn.navigate(`${app}/logout`);
    expect((await loggedIn.submitForm(page.body, page.url)).status).toBe(303);

    // Last: the AS goes away between the authorization and the callback.
    const { callbackUrl: late } = await victim.stepUntilCallback(app);
    await stack.stopAuthorizationServer();
    expectFailure(await victim.navigate(late), 'as_unreachable');
  });
  afterAll(() => stack.close());

  it('logs no secret, code, token, verifier, state, nonce or session id', async () => {
    const sessions = await sessionsOf(store);
    const tokens = await tokensOf(
      stack.middleware(),
      sessions.flatMap((s) => (s.parLogin?.user ? [s.parLogin.user] : [])),
    );
    const setCookies = browsers.flatMap((b) =>
      b.seen.flatMap((hop) => ([] as string[]).concat(hop.headers['set-cookie'] ?? [])),
    );
    const pending = await pendingLoginsOf(stack.middleware(), setCookies);
    const seenUrls = browsers.flatMap((b) => b.seen.flatMap((hop) => [hop.url, hop.location ?? '']));
    const codes = seenUrls
      .filter((u) => u.includes('code='))
      .map((u) => new URL(u).searchParams.get('code'))
      .filter((c) => c !== null);
    const pushed = stack.record.filter((r) => r.endpoint === 'par').map((r) => r.body);
    const exchanged = stack.record.filter((r) => r.endpoint === 'token').map((r) => r.body);
    const sessionIds = browsers
      .flatMap((b) => b.seen.flatMap((hop) => ([] as string[]).concat(hop.headers['set-cookie'] ?? [])))
      .map((c) => decodeURIComponent(c.split(';')[0]!.split('=')[1]!))
      .filter((v) => v.startsWith('s:'))
      .map((v) => v.slice(2).split('.')[0]!);

    const secrets = {
      clientSecret: [stack.clientSecret],
      sessionSecret: [stack.options.sessionSecret!],
      sessionIds,
      codes,
      accessTokens: tokens.map((t) => t.accessToken),
      idTokens: tokens.map((t) => t.idToken),
      refreshTokens: tokens.flatMap((t) => (t.refreshToken ? [t.refreshToken] : [])),
      verifiers: [...exchanged.map((b) => String(b.code_verifier)), ...pending.map((tx) => tx.codeVerifier)],
      states: pushed.map((b) => String(b.state)),
      nonces: [...pushed.map((b) => String(b.nonce)), ...pending.map((tx) => tx.nonce)],
    };
    // The run produced each kind of value (else the search below would prove nothing).
    for (const [kind, values] of Object.entries(secrets)) {
      if (kind !== 'refreshTokens') expect([kind, values.length > 0]).toEqual([kind, true]);
    }
    expect(secrets.codes.length).toBeGreaterThanOrEqual(8);
    expect(stack.logs.length).toBeGreaterThanOrEqual(shown.length);

    expect(traces.length).toBeGreaterThan(20);
    const logged = JSON.stringify(stack.logs) + JSON.stringify(traces);
    for (const [kind, values] of Object.entries(secrets)) {
      for (const value of new Set(values)) {
        expect(value.length).toBeGreaterThan(8);
        if (logged.includes(value)) throw new Error(`a ${kind} value appears in the log`);
      }
    }
  });

  it('traces every step of a login under one flow id, from the push to the session', () => {
    const done = traces.filter((t) => t.step === 'callback.done');
    expect(done.length).toBeGreaterThanOrEqual(2);
    for (const end of done) {
      // (A replayed callback of the same login may follow: the failure cases replay one.)
      const steps = traces
        .filter((t) => t.flow === end.flow)
        .map((t) => t.step)
        .slice(0, 8);
      expect(steps).toEqual([
        'login.push',
        'login.pushed',
        'login.redirect',
        'callback.received',
        'callback.transaction',
        'callback.tokens',
        'callback.id_token',
        'callback.done',
      ]);
    }
    const redirect = traces.find((t) => t.step === 'login.redirect')!;
    expect(redirect.query).toEqual(['client_id', 'request_uri']);
  });

  it('gives every failure record a code and a correlation id, the one the user was shown', () => {
    const failures = stack.logs.filter((r) => r.msg === FAILURE);
    expect(failures.length).toBe(shown.length);
    for (const record of failures) {
      expect(record).toMatchObject({ code: expect.any(String), id: expect.stringMatching(/^[0-9a-f]{8,}$/) });
    }
    expect(new Set(failures.map((r) => r.id)).size).toBe(failures.length);
    for (const { hop, code } of shown) {
      const { id } = failureOf(hop);
      expect(id).toBeDefined();
      expect(failures.filter((r) => r.id === id)).toEqual([
        expect.objectContaining({ code, status: hop.status }),
      ]);
    }
    const kinds = new Set(shown.map((s) => String(s.hop.headers['content-type']).split(';')[0]));
    expect(kinds).toEqual(new Set(['text/html', 'application/json']));
  });
});
