/**
 * Stale sign-in responses (the most frequent complaint about login middleware): an
 * anonymous browser that navigates to the callback with a code whose state is unknown or expired
 * (a bookmarked or reloaded sign-in page, a lost cookie) gets a fresh login, once, instead of an
 * error page. Against oidc-provider; the fresh login completes there.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startStack, type Stack } from '../helpers/stack.js';

const JSON_FETCH = { accept: 'application/json', 'sec-fetch-mode': 'cors' };

let stack: Stack;
let strict: Stack;
beforeAll(async () => {
  [stack, strict] = await Promise.all([
    startStack(),
    startStack({ overrides: { restartStaleLogins: false } }),
  ]);
});
afterAll(async () => {
  await Promise.all([stack.close(), strict.close()]);
});

/** A callback URL the AS sent to a browser whose session is then gone (its cookie lost). */
async function orphanedCallback(target: Stack): Promise<string> {
  return (await target.browser().stepUntilCallback(target.appUrl)).callbackUrl;
}

function expectFreshLoginAtAs(location: string | undefined, target: Stack): URL {
  const url = new URL(location!);
  expect(url.origin).toBe(new URL(target.issuer).origin);
  expect([...url.searchParams.keys()]).toEqual(['client_id', 'request_uri']);
  return url;
}

describe('an anonymous browser with a stale sign-in response', () => {
  it('is sent into a fresh login that completes, with a marked state, and the stale code is never exchanged', async () => {
    const stale = await orphanedCallback(stack);
    const tokenCalls = stack.record.filter((r) => r.endpoint === 'token').length;
    const browser = stack.browser();
    const restarted = await browser.navigate(stale);
    expect(restarted.status).toBe(303);
    expectFreshLoginAtAs(restarted.location, stack);
    expect(stack.record.filter((r) => r.endpoint === 'token')).toHaveLength(tokenCalls);
    const pushed = stack.record.filter((r) => r.endpoint === 'par').at(-1)!;
    expect(String(pushed.body.state)).toMatch(/^r\.[\w-]{43}$/);
    expect(stack.logs).toContainEqual(
      expect.objectContaining({ level: 'warn', code: 'login_restarted', cause: 'state_unknown' }),
    );

    const hops = await browser.continueLogin(restarted, stack.appUrl);
    expect(hops.at(-1)!.url).toBe(`${stack.appUrl}/`);
    const me = await browser.navigate(`${stack.appUrl}/me`);
    expect(me.status).toBe(200);
    expect((JSON.parse(me.body) as { claims: { sub: string } }).claims.sub).toBe('alice');
  });

  it('is not restarted twice: a restarted login whose cookie is lost again gets the explanation', async () => {
    const browser = stack.browser();
    const restarted = await browser.navigate(await orphanedCallback(stack));
    expect(restarted.status).toBe(303);
    const hops = await browser.continueLogin(restarted, stack.appUrl, {}, (url) =>
      url.href.startsWith(`${stack.appUrl}/callback?`),
    );
    const marked = hops.at(-1)!.location!;
    expect(new URL(marked).searchParams.get('state')).toMatch(/^r\./);
    // Its cookie is lost too (another browser delivers it): no loop, the error with its hint.
    const lost = await stack.browser().navigate(marked);
    expect(lost.status).toBe(400);
    expect(lost.body).toContain('state_unknown');
    expect(lost.body).toContain('APP_BASE_URL');
    // The browser that started it still finishes it.
    expect((await browser.navigate(marked)).status).toBe(303);
  });

  it('keeps the error for an AS error response, an API request and a logged-in browser', async () => {
    const stale = new URL(await orphanedCallback(stack));
    const denied = new URL(stale);
    denied.searchParams.delete('code');
    denied.searchParams.set('error', 'access_denied');
    expect((await stack.browser().navigate(denied.href)).status).toBe(400);

    const api = await stack.browser().request(stale.href, { headers: JSON_FETCH });
    expect(api.status).toBe(400);
    expect((JSON.parse(api.body) as { error: string }).error).toBe('state_unknown');

    const user = stack.browser();
    await user.login(stack.appUrl);
    const loggedIn = await user.navigate(stale.href);
    expect(loggedIn.status).toBe(400);
    expect(loggedIn.body).toContain('state_unknown');
  });

  it('keeps the error when restartStaleLogins is false', async () => {
    const stale = await orphanedCallback(strict);
    const res = await strict.browser().navigate(stale);
    expect(res.status).toBe(400);
    expect(res.body).toContain('arrived without a session');
    expect(strict.logs.filter((entry) => entry.code === 'login_restarted')).toEqual([]);
  });
});
