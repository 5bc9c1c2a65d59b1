/**
 * PAR capabilities and the `par` policy (RFC 9126 §5): `capabilities()` against the real
 * oidc-provider, and against the scripted AS the cases a real server will not produce: no PAR
 * endpoint, PAR required without an endpoint, a classic request refused for want of PAR.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { startHostileAs, type HostileAs } from '../helpers/hostile-as.js';
import {
  expectCleanFailure,
  FETCH_HEADERS,
  startHostileApp,
  trackUnhandledRejections,
  walkToCallback,
  type HostileApp,
} from '../helpers/hostile-stack.js';
import { middlewareOf } from '../helpers/middleware.js';
import { startStack, type Stack } from '../helpers/stack.js';

const withoutPar = (body: unknown, extra: Record<string, unknown> = {}) => ({
  ...(body as Record<string, unknown>),
  pushed_authorization_request_endpoint: undefined,
  require_pushed_authorization_requests: undefined,
  ...extra,
});

describe('capabilities() against oidc-provider', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack.close());

  it('reports the PAR endpoint and that the AS requires PAR', async () => {
    const capabilities = await middlewareOf(stack).capabilities();
    expect(capabilities).toEqual({
      offersPar: true,
      requiresPar: true,
      parEndpoint: `${stack.issuer}/request`,
    });
  });
});

describe('the par policy against oidc-provider with PAR turned off', () => {
  let auto: Stack;
  let required: Stack;
  const withoutParFeature = (config: { features?: Record<string, unknown> }): void => {
    config.features = { ...config.features, pushedAuthorizationRequests: { enabled: false } };
  };
  beforeAll(async () => {
    [auto, required] = await Promise.all([
      startStack({ configureAs: withoutParFeature, overrides: { par: 'auto' } }),
      startStack({ configureAs: withoutParFeature }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([auto.close(), required.close()]);
  });

  it('par: auto logs in with a classic authorization request, PKCE and all, and never pushes', async () => {
    expect(await middlewareOf(auto).capabilities()).toEqual({ offersPar: false, requiresPar: false });
    const browser = auto.browser();
    const hops = await browser.login(auto.appUrl, { returnTo: '/profile' });
    const toAs = new URL(hops.find((hop) => hop.location?.startsWith(`${auto.issuer}/auth`))!.location!);
    expect(toAs.searchParams.get('response_type')).toBe('code');
    expect(toAs.searchParams.get('code_challenge_method')).toBe('S256');
    expect(toAs.searchParams.get('state')).toMatch(/^[\w-]{43}$/);
    expect(toAs.searchParams.get('request_uri')).toBeNull();
    expect(auto.record.filter((r) => r.endpoint === 'par')).toEqual([]);
    expect(hops.at(-1)!.url).toBe(`${auto.appUrl}/profile`);
    expect((await browser.navigate(`${auto.appUrl}/me`)).status).toBe(200);
  });

  it('the default policy refuses to log in there (no_par_endpoint, 502) and sends nobody to the AS', async () => {
    const res = await required.browser().request(`${required.appUrl}/login`, { headers: FETCH_HEADERS });
    expect(res.status).toBe(502);
    expect((JSON.parse(res.body) as { error: string }).error).toBe('no_par_endpoint');
    expect(res.headers.location).toBeUndefined();
  });
});

describe('the par policy against a scripted AS', () => {
  let as: HostileAs;
  let app: HostileApp | undefined;
  let rejections: ReturnType<typeof trackUnhandledRejections>;
  beforeAll(async () => {
    as = await startHostileAs();
    rejections = trackUnhandledRejections();
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
    as.reset();
  });
  afterAll(async () => {
    rejections.stop();
    expect(rejections.reasons).toEqual([]);
    await as.close();
  });

  it('reports an AS without PAR through capabilities()', async () => {
    as.script.discovery = { body: (normal: unknown) => withoutPar(normal) };
    app = await startHostileApp(as);
    expect(await app.middleware.capabilities()).toEqual({ offersPar: false, requiresPar: false });
  });

  it('refuses to start a login without a PAR endpoint by default (no_par_endpoint, 502)', async () => {
    as.script.discovery = { body: (normal: unknown) => withoutPar(normal) };
    app = await startHostileApp(as);
    const browser = app.browser();
    const res = await browser.navigate(`${app.url}/login`);
    await expectCleanFailure(app, browser, res, 'no_par_endpoint', 502);
    expect(as.count('auth')).toBe(0);
  });

  it('falls back to a classic request with par: auto, and logs in', async () => {
    as.script.discovery = { body: (normal: unknown) => withoutPar(normal) };
    app = await startHostileApp(as, { par: 'auto' });
    const browser = app.browser();
    const login = await browser.navigate(`${app.url}/login?login_hint=a%40b.example`);
    expect(login.status).toBe(303);
    const target = new URL(login.location!);
    expect(target.searchParams.get('response_type')).toBe('code');
    expect(target.searchParams.get('code_challenge_method')).toBe('S256');
    expect(target.searchParams.get('login_hint')).toBe('a@b.example');
    expect(target.searchParams.get('request_uri')).toBeNull();
    expect(as.count('par')).toBe(0);
    const hops = await browser.follow(login);
    expect(hops.at(-1)!.url).toBe(`${app.url}/`);
    const me = await browser.request(`${app.url}/me`, { headers: FETCH_HEADERS });
    expect((JSON.parse(me.body) as { claims: { sub: string } }).claims.sub).toBe('mallory');
  });

  it('still pushes with par: auto when the AS offers PAR', async () => {
    app = await startHostileApp(as, { par: 'auto' });
    const login = await app.browser().navigate(`${app.url}/login`);
    expect([...new URL(login.location!).searchParams.keys()]).toEqual(['client_id', 'request_uri']);
    expect(as.count('par')).toBe(1);
  });

  it('answers par_required (502) when the AS requires PAR but publishes no endpoint, even with par: auto', async () => {
    as.script.discovery = {
      body: (normal: unknown) => withoutPar(normal, { require_pushed_authorization_requests: true }),
    };
    app = await startHostileApp(as, { par: 'auto' });
    expect(await app.middleware.capabilities()).toEqual({ offersPar: false, requiresPar: true });
    const browser = app.browser();
    const res = await browser.request(`${app.url}/login`, { headers: FETCH_HEADERS });
    await expectCleanFailure(app, browser, res, 'par_required', 502);
  });

  it('answers par_required (502) when the AS refuses a classic request for want of PAR', async () => {
    as.script.discovery = { body: (normal: unknown) => withoutPar(normal) };
    as.script.auth = (request) => {
      const query = new URL(request.url, as.issuer).searchParams;
      const back = new URL(query.get('redirect_uri')!);
      back.searchParams.set('error', 'invalid_request');
      back.searchParams.set('error_description', 'Pushed Authorization Request must be used');
      back.searchParams.set('state', query.get('state')!);
      back.searchParams.set('iss', as.issuer);
      return { status: 303, headers: { location: back.href } };
    };
    app = await startHostileApp(as, { par: 'auto' });
    const browser = app.browser();
    const callback = await walkToCallback(app, browser);
    const res = await browser.navigate(callback);
    await expectCleanFailure(app, browser, res, 'par_required', 502);
    expect(res.body).not.toContain('Pushed Authorization Request must be used');
  });

  it('reports a failed push as par_error (502)', async () => {
    as.script.par = { status: 400, body: { error: 'invalid_request', error_description: 'nope' } };
    app = await startHostileApp(as);
    const browser = app.browser();
    const res = await browser.navigate(`${app.url}/login`);
    await expectCleanFailure(app, browser, res, 'par_error', 502);
  });
});
