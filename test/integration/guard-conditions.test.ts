/**
 * `requireLogin({ claims, check, acrValues, maxAge })` against oidc-provider: users who do not
 * qualify get `403 forbidden`; a session below the route's authentication level is sent to a
 * step-up login asking for it, and lands on the route once the AS asserts it.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createApp } from '../../sample-app/app.js';
import { requireLogin, type ParLoginOptions } from '../../src/index.js';
import { assertAcrAtLogin, backChannel, startStack, type Stack } from '../helpers/stack.js';

const JSON_FETCH = { accept: 'application/json', 'sec-fetch-mode': 'cors' };

function guardedApp(options: ParLoginOptions) {
  const app = createApp(options);
  const answer = (name: string) => (_req: unknown, res: { send(body: string): void }) =>
    res.send(`${name} page`);
  app.get(
    '/admin',
    requireLogin({ claims: { email: 'alice@example.test', email_verified: true } }),
    answer('admin'),
  );
  app.get(
    '/bobs',
    requireLogin({ check: (auth) => Promise.resolve(auth.claims?.sub === 'bob') }),
    answer('bobs'),
  );
  app.get('/strong', requireLogin({ acrValues: ['urn:loa:2'] }), answer('strong'));
  app.get('/recent', requireLogin({ maxAge: 60 }), answer('recent'));
  return app;
}

describe('requireLogin conditions', () => {
  let stack: Stack;
  const acr: { value: string | undefined } = { value: 'urn:loa:1' };
  beforeAll(async () => {
    stack = await startStack({
      buildApp: guardedApp as never,
      configureAs: (config) => {
        config.acrValues = ['urn:loa:1', 'urn:loa:2'];
        // The step-up asks for the acr as an essential claim, which the AS must then honour (OIDC Core §5.5.1.1).
        config.features!.claimsParameter = { enabled: true };
      },
    });
    assertAcrAtLogin(stack.provider, acr);
  });
  afterAll(() => stack.close());

  it('let a user with the claims or passing the check through, and answer 403 forbidden to others', async () => {
    acr.value = 'urn:loa:1';
    const alice = stack.browser();
    await alice.login(stack.appUrl, { user: 'alice' });
    expect((await alice.navigate(`${stack.appUrl}/admin`)).body).toBe('admin page');
    const refused = await alice.request(`${stack.appUrl}/bobs`, { headers: JSON_FETCH });
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.body)).toMatchObject({ error: 'forbidden' });
    const page = await alice.navigate(`${stack.appUrl}/bobs`);
    expect(page.status).toBe(403);
    expect(page.body).toContain('<code>forbidden</code>');

    const bob = stack.browser();
    await bob.login(stack.appUrl, { user: 'bob' });
    expect((await bob.navigate(`${stack.appUrl}/bobs`)).body).toBe('bobs page');
    expect((await bob.request(`${stack.appUrl}/admin`, { headers: JSON_FETCH })).status).toBe(403);
    expect(stack.logs).toContainEqual(expect.objectContaining({ code: 'forbidden', path: '/admin' }));
  });

  it('send a session below the acr asked for to a step-up login, and let it in once the AS asserts it', async () => {
    acr.value = 'urn:loa:1';
    const browser = stack.browser();
    await browser.login(stack.appUrl);
    const api = await browser.request(`${stack.appUrl}/strong`, { headers: JSON_FETCH });
    expect(api.status).toBe(401);
    expect(JSON.parse(api.body)).toMatchObject({ error: 'login_required' });

    acr.value = 'urn:loa:2';
    const pushes = backChannel(stack.record).filter((r) => r.endpoint === 'par').length;
    const stepUp = await browser.navigate(`${stack.appUrl}/strong`);
    expect(stepUp.status).toBe(303);
    expect(new URL(stepUp.location!).origin).toBe(new URL(stack.issuer).origin);
    const pushed = backChannel(stack.record).filter((r) => r.endpoint === 'par');
    expect(pushed.length).toBe(pushes + 1);
    expect(pushed.at(-1)!.body).toMatchObject({
      prompt: 'login',
      acr_values: 'urn:loa:2',
      claims: JSON.stringify({ id_token: { acr: { essential: true, values: ['urn:loa:2'] } } }),
    });
    const hops = await browser.continueLogin(stepUp, stack.appUrl);
    expect(hops.at(-1)!.url).toBe(`${stack.appUrl}/strong`);
    expect(hops.at(-1)!.body).toBe('strong page');
  });

  it('send a session without a recent enough authentication to a login with max_age', async () => {
    const browser = stack.browser();
    await browser.login(stack.appUrl);
    const stepUp = await browser.navigate(`${stack.appUrl}/recent`);
    // The first login asked for no max_age: its ID token has no auth_time, so nothing proves recency.
    expect(stepUp.status).toBe(303);
    expect(
      backChannel(stack.record)
        .filter((r) => r.endpoint === 'par')
        .at(-1)!.body,
    ).toMatchObject({
      max_age: '60',
    });
    const hops = await browser.continueLogin(stepUp, stack.appUrl);
    expect(hops.at(-1)!.body).toBe('recent page');
  });
});
