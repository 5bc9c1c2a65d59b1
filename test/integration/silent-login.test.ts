/**
 * `attemptSilentLogin` against oidc-provider: an anonymous browser's first navigation tries a
 * `prompt=none` login once; a user still signed in at the AS comes back logged in without a page
 * of the AS, one who is not reaches the page anonymous, and nothing about it is an error.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser } from '../helpers/browser.js';
import { backChannel, startStack, type Stack } from '../helpers/stack.js';

const JSON_FETCH = { accept: 'application/json', 'sec-fetch-mode': 'cors' };

describe('silent login', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ overrides: { attemptSilentLogin: true } });
  });
  afterAll(() => stack.close());

  const pushes = () => backChannel(stack.record).filter((r) => r.endpoint === 'par');
  const errorsLogged = () => stack.logs.filter((r) => typeof r.status === 'number');
  const silentCookie = (browser: Browser) => browser.jar.all().find((c) => c.name === 'parlogin-silent');
  async function me(browser: Browser): Promise<number> {
    return (await browser.request(`${stack.appUrl}/me`, { headers: JSON_FETCH })).status;
  }

  it('brings a browser without an AS session back to its page, anonymous, and tries only once', async () => {
    const before = pushes().length;
    const logged = errorsLogged().length;
    const browser = stack.browser();
    const first = await browser.navigate(`${stack.appUrl}/?tab=news`);
    expect(first.status).toBe(303);
    expect(new URL(first.location!).origin).toBe(new URL(stack.issuer).origin);
    expect(pushes().at(-1)!.body).toMatchObject({ prompt: 'none' });
    expect(first.headers['set-cookie']).toEqual(
      expect.arrayContaining([expect.stringMatching(/^parlogin-silent=1; Path=\/; HttpOnly; SameSite=Lax$/)]),
    );

    const hops = await browser.follow(first);
    const callback = hops.find((h) => new URL(h.url).pathname === '/callback')!;
    expect(new URL(callback.url).searchParams.get('error')).toBe('login_required');
    expect(hops.at(-1)!.url).toBe(`${stack.appUrl}/?tab=news`);
    expect(hops.at(-1)!.status).toBe(200);
    expect(await me(browser)).toBe(401);
    expect(errorsLogged().length).toBe(logged);

    // Tried: the next navigations are served directly, with no push.
    expect((await browser.navigate(`${stack.appUrl}/`)).status).toBe(200);
    expect((await browser.navigate(`${stack.appUrl}/?again`)).status).toBe(200);
    expect(pushes().length).toBe(before + 1);
  });

  it('logs a browser still signed in at the AS back in without showing the AS', async () => {
    const browser = stack.browser();
    await browser.login(stack.appUrl);
    // The app's session is gone (expired, or a restart with an in-memory store); the AS's is not.
    browser.jar.store(new URL(stack.appUrl), ['parlogin=; Max-Age=0', 'parlogin-silent=; Max-Age=0']);
    expect(await me(browser)).toBe(401);
    const seenBefore = browser.seen.length;

    // The public home page: without the silent attempt it would be served anonymous.
    const hops = await browser.follow(`${stack.appUrl}/`);
    expect(pushes().at(-1)!.body).toMatchObject({ prompt: 'none' });
    expect(hops.at(-1)!.url).toBe(`${stack.appUrl}/`);
    expect(hops.at(-1)!.status).toBe(200);
    // Only redirects in between: no login or consent page of the AS.
    expect(browser.seen.slice(seenBefore, -1).every((h) => h.status === 303 || h.status === 302)).toBe(true);
    expect(await me(browser)).toBe(200);
  });

  it('does not spend the attempt on requests that are not navigations, nor on prefetches', async () => {
    const before = pushes().length;
    const browser = stack.browser();
    expect((await browser.request(`${stack.appUrl}/`, { headers: JSON_FETCH })).status).toBe(200);
    expect(
      (await browser.navigate(`${stack.appUrl}/`, { headers: { 'sec-purpose': 'prefetch' } })).status,
    ).toBe(200);
    expect(silentCookie(browser)).toBeUndefined();
    expect(pushes().length).toBe(before);
    expect((await browser.navigate(`${stack.appUrl}/`)).status).toBe(303);
  });

  it('marks a browser that logs out, so that it is not logged straight back in', async () => {
    const browser = stack.browser();
    await browser.login(stack.appUrl);
    browser.jar.store(new URL(stack.appUrl), 'parlogin-silent=; Max-Age=0');
    const page = await browser.navigate(`${stack.appUrl}/logout`);
    await browser.submitForm(page.body, page.url);
    expect(silentCookie(browser)?.value).toBe('1');
  });

  it('serves the page anonymous, and logs why, when the attempt cannot start', async () => {
    await stack.stopAuthorizationServer();
    const browser = stack.browser();
    const hop = await browser.navigate(`${stack.appUrl}/`);
    expect(hop.status).toBe(200);
    expect(hop.body).toContain('<');
    expect(stack.logs.at(-1)).toMatchObject({
      code: 'silent_login_skipped',
      cause_code: 'as_unreachable',
      path: '/',
    });
    expect(String(stack.logs.at(-1)!.error)).toContain(stack.issuer);
    // Still once per browser: an AS that is down is not asked again on every page.
    const records = stack.logs.length;
    expect((await browser.navigate(`${stack.appUrl}/`)).status).toBe(200);
    expect(stack.logs.length).toBe(records);
  });
});
