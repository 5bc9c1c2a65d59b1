/**
 * Per-request authorization parameters (`res.login(options)` and `GET /login`) against oidc-provider
 * configured for them: acr values, the claims parameter, resource indicators (RFC 8707) and rich
 * authorization requests (RFC 9396). Everything must travel in the PAR body only.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Configuration } from 'oidc-provider';
import { createApp } from '../../sample-app/app.js';
import type { LoginOptions, ParLoginOptions } from '../../src/index.js';
import { assertAcrAtLogin, startStack, type Stack } from '../helpers/stack.js';

const API = 'https://api.example.test/';
const LEDGER = 'https://ledger.example.test/';
const PAYMENT = {
  type: 'payment_initiation',
  instructedAmount: { currency: 'EUR', amount: '12.30' },
  creditorName: 'Merchant',
};

/** The sample app plus `/go`, which starts a login with the options the test sets, and `/details`. */
function appWithLoginRoute(next: { options: LoginOptions }) {
  return (options: ParLoginOptions) => {
    const app = createApp(options);
    app.get('/go', (_req, res) => void res.login(next.options));
    app.get(
      '/details',
      (req, res) =>
        void res.json({
          details: req.auth.authorizationDetails ?? null,
          tokenType: req.auth.tokenType ?? null,
          claims: req.auth.claims ?? null,
        }),
    );
    return app;
  };
}

function enableFeatures(config: Configuration): void {
  for (const client of config.clients ?? [])
    Object.assign(client, { authorization_details_types: ['payment_initiation'] });
  config.acrValues = ['urn:loa:1', 'urn:loa:2'];
  config.features!.claimsParameter = { enabled: true };
  config.features!.resourceIndicators = {
    enabled: true,
    defaultResource: (_ctx: unknown, _client: unknown, oneOf?: string) => oneOf ?? API,
    useGrantedResource: () => true,
    getResourceServerInfo: (_ctx: unknown, resource: string) => {
      if (resource !== API && resource !== LEDGER) throw new Error('unknown resource');
      return { scope: 'read', audience: resource, accessTokenFormat: 'opaque' };
    },
  } as never;
  config.features!.richAuthorizationRequests = {
    enabled: true,
    types: { payment_initiation: { validate: () => undefined } },
    authorizationDetailsForGrantSource: (ctx: { oidc: { grant?: { rar?: unknown[] } } }) =>
      ctx.oidc.grant?.rar ?? [],
    authorizationDetailsForAccessToken: (_ctx: unknown, _token: unknown, source: { rar?: unknown[] }) =>
      source?.rar ?? [],
    authorizationDetailsForIntrospection: () => [],
  } as never;
}

describe('per-request authorization parameters against oidc-provider', () => {
  let stack: Stack;
  const next: { options: LoginOptions } = { options: {} };
  beforeAll(async () => {
    stack = await startStack({ buildApp: appWithLoginRoute(next) as never, configureAs: enableFeatures });
    // Logins that ask for acr_values must get one of them (integration/acr.test.ts): the AS asserts one.
    assertAcrAtLogin(stack.provider, { value: 'urn:loa:2' });
  });
  afterAll(() => stack.close());

  const lastPush = () => stack.record.filter((r) => r.endpoint === 'par').at(-1)!;

  it('pushes prompt, login_hint, acr_values, max_age, ui_locales, claims and extras, and keeps the URL to client_id and request_uri', async () => {
    next.options = {
      returnTo: '/profile',
      prompt: 'login consent',
      loginHint: 'alice@example.test',
      acrValues: ['urn:loa:2', 'urn:loa:1'],
      maxAge: 600,
      uiLocales: 'de-CH en',
      claims: { id_token: { email: { essential: true } } },
      params: { foo: 'bar' },
    };
    const browser = stack.browser();
    const start = await browser.navigate(`${stack.appUrl}/go`);
    expect(start.status).toBe(303);
    expect([...new URL(start.location!).searchParams.keys()]).toEqual(['client_id', 'request_uri']);
    expect(start.location).not.toContain('alice');
    expect(lastPush().body).toMatchObject({
      prompt: 'login consent',
      login_hint: 'alice@example.test',
      acr_values: 'urn:loa:2 urn:loa:1',
      max_age: '600',
      ui_locales: 'de-CH en',
      claims: JSON.stringify({ id_token: { email: { essential: true } } }),
      foo: 'bar',
      scope: 'openid profile email',
    });
    const hops = await browser.follow(start);
    const pages = [...hops];
    for (
      let i = 0;
      i < 3 && pages.at(-1)!.status === 200 && new URL(pages.at(-1)!.url).origin !== stack.appUrl;
      i += 1
    ) {
      const page = pages.at(-1)!;
      const isLogin = page.body.includes('name="login"');
      const posted = await browser.submitForm(
        page.body,
        page.url,
        isLogin ? { login: 'alice', password: 'x' } : {},
      );
      pages.push(posted, ...(await browser.follow(posted)));
    }
    expect(pages.at(-1)!.url).toBe(`${stack.appUrl}/profile`);
    const me = JSON.parse(
      (await browser.request(`${stack.appUrl}/details`, { headers: { accept: 'application/json' } })).body,
    ) as { claims: { auth_time?: unknown } };
    expect(typeof me.claims.auth_time).toBe('number'); // max_age asked: oidc-provider sends auth_time, and the app checked it
  });

  it('takes prompt, login_hint, ui_locales and max_age from the /login query, and ignores the rest', async () => {
    const browser = stack.browser();
    await browser.navigate(
      `${stack.appUrl}/login?prompt=login&login_hint=bob&ui_locales=fr&max_age=60&scope=openid%20admin&acr_values=x&resource=${encodeURIComponent(API)}`,
    );
    const body = lastPush().body;
    expect(body).toMatchObject({
      prompt: 'login',
      login_hint: 'bob',
      ui_locales: 'fr',
      max_age: '60',
      scope: 'openid profile email',
    });
    expect(body.acr_values).toBeUndefined();
    expect(body.resource).toBeUndefined();
  });

  it('sends each resource as its own parameter (RFC 8707) and logs in with them', async () => {
    next.options = { resource: [API, LEDGER], scope: 'openid profile read' };
    const browser = stack.browser();
    await browser.navigate(`${stack.appUrl}/go`);
    expect(lastPush().body.resource).toEqual([API, LEDGER]);
    expect(lastPush().status).toBe(201);
    next.options = { resource: API, scope: 'openid profile read', returnTo: '/profile' };
    const hops = await browser.login(stack.appUrl, { loginPath: '/go' });
    expect(hops.at(-1)!.url).toBe(`${stack.appUrl}/profile`);
  });

  it('pushes authorization_details (RFC 9396) and keeps what was asked and what the AS granted in the session', async () => {
    next.options = { authorizationDetails: [PAYMENT], returnTo: '/profile' };
    const browser = stack.browser();
    const hops = await browser.login(stack.appUrl, { loginPath: '/go' });
    expect(hops.at(-1)!.status).toBe(200);
    expect(hops.at(-1)!.url).toBe(`${stack.appUrl}/profile`);
    expect(
      JSON.parse(String(stack.record.filter((r) => r.endpoint === 'par').at(-1)!.body.authorization_details)),
    ).toEqual([PAYMENT]);
    const { details } = JSON.parse(
      (await browser.request(`${stack.appUrl}/details`, { headers: { accept: 'application/json' } })).body,
    ) as { details: { requested: unknown; granted: unknown } };
    expect(details.requested).toEqual([PAYMENT]);
    expect(details.granted).toEqual([PAYMENT]);
  });

  it.each<[string, LoginOptions, string]>([
    ['a scope without openid', { scope: 'profile' }, 'scope must include openid'],
    ['prompt none with another prompt', { prompt: 'none login' }, 'prompt must be none'],
    ['a relative resource', { resource: '/api' }, 'absolute URI without a fragment'],
    ['a resource with a fragment', { resource: 'https://api.example/#x' }, 'absolute URI without a fragment'],
    [
      'authorization details without a type',
      { authorizationDetails: [{ amount: 1 }] },
      'object with a string type',
    ],
    ['a negative max_age', { maxAge: -1 }, 'maxAge must be an integer'],
    ['an extra that the middleware owns', { params: { state: 'x' } }, 'params may not set state'],
    [
      'a redirect URI on a foreign origin',
      { redirectUri: 'https://evil.example/callback' },
      'redirectUri must be one of the configured origins',
    ],
    ['a login hint with a line break', { loginHint: 'a\r\nb' }, 'loginHint must be a non-empty string'],
  ])('answers 400 invalid_request to %s, without pushing', async (_name, options, text) => {
    next.options = options;
    const before = stack.record.length;
    const res = await stack
      .browser()
      .request(`${stack.appUrl}/go`, { headers: { accept: 'application/json', 'sec-fetch-mode': 'cors' } });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toMatchObject({ error: 'invalid_request' });
    expect((JSON.parse(res.body) as { error_description: string }).error_description).toContain(text);
    expect(stack.record.length).toBe(before);
  });
});
