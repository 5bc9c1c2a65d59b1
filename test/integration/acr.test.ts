/**
 * Requested authentication context classes against oidc-provider (OIDC Core §3.1.3.7 item 12): a
 * login that asked for `acr_values` ends in a session only when the ID token asserts one of them.
 * The AS asserts the `acr` its interaction result gives (`login.acr`), set here per test.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createApp } from '../../sample-app/app.js';
import type { LoginOptions, ParLoginOptions } from '../../src/index.js';
import { assertAcrAtLogin, startStack, type Stack } from '../helpers/stack.js';

/** The sample app plus `/go`, which starts a login with the options the test sets. */
function appWithLoginRoute(next: { options: LoginOptions }) {
  return (options: ParLoginOptions) => {
    const app = createApp(options);
    app.get('/go', (_req, res) => void res.login(next.options));
    return app;
  };
}

/** Log in through `/go` and ask `/me` who is logged in. */
async function loginAndMe(stack: Stack) {
  const browser = stack.browser();
  const hops = await browser.login(stack.appUrl, { loginPath: '/go' });
  const me = await browser.request(`${stack.appUrl}/me`, { headers: { accept: 'application/json' } });
  return { last: hops.at(-1)!, me };
}

describe.each([
  ['on by default', {}],
  ['turned off', { checkAcr: false }],
])('the acr check %s', (_name, overrides: Partial<ParLoginOptions>) => {
  let stack: Stack;
  const next: { options: LoginOptions } = { options: {} };
  const acr: { value: string | undefined } = { value: undefined };
  const checking = overrides.checkAcr !== false;
  beforeAll(async () => {
    stack = await startStack({
      buildApp: appWithLoginRoute(next) as never,
      overrides,
      configureAs: (config) => {
        config.acrValues = ['urn:loa:1', 'urn:loa:2'];
      },
    });
    assertAcrAtLogin(stack.provider, acr);
  });
  afterAll(() => stack.close());

  it('starts a session when the ID token asserts a requested acr', async () => {
    next.options = { acrValues: ['urn:loa:2'] };
    acr.value = 'urn:loa:2';
    const { me } = await loginAndMe(stack);
    expect(me.status).toBe(200);
    expect(JSON.parse(me.body)).toMatchObject({ claims: { acr: 'urn:loa:2' } });
  });

  it.each([
    ['a lower acr', 'urn:loa:1'],
    ['no acr', undefined],
  ])(`${checking ? 'refuses' : 'accepts'} a login whose ID token asserts %s`, async (_what, asserted) => {
    next.options = { acrValues: ['urn:loa:2'] };
    acr.value = asserted;
    const { last, me } = await loginAndMe(stack);
    if (!checking) {
      expect(me.status).toBe(200);
      return;
    }
    expect(last.status).toBe(403);
    expect(last.body).toContain('<code>acr_not_satisfied</code>');
    expect(me.status).toBe(401);
    expect(stack.logs).toContainEqual(
      expect.objectContaining({ level: 'warn', code: 'acr_not_satisfied', status: 403 }),
    );
  });

  it('does not check a login that asked for no acr', async () => {
    next.options = {};
    acr.value = undefined;
    expect((await loginAndMe(stack)).me.status).toBe(200);
  });
});
