/**
 * Logins in several tabs of one browser at once. A browser with no session starting logins in
 * several tabs: each /login creates a session and the browser keeps only the last cookie. A login
 * started while another tab's callback is finishing: the callback regenerates the session without
 * it. The login-binding cookie and the shared copy of each transaction let every tab finish, without
 * weakening the state's binding to the browser.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser, Hop } from '../helpers/browser.js';
import { flowId } from '../../src/observability/debug.js';
import { parseFirstForm } from '../helpers/html-form.js';
import { startStack, type Stack } from '../helpers/stack.js';

let stack: Stack;
/** While set, the AS's token endpoint waits for it: a callback can be held in the middle. */
let tokenGate: Promise<void> | undefined;
beforeAll(async () => {
  stack = await startStack({
    asMiddleware: [
      async (ctx, next) => {
        if (ctx.path === '/token' && tokenGate) await tokenGate;
        await next();
      },
    ],
  });
});
afterAll(() => stack.close());

/** From the AS's redirect after /login, sign in and consent until the AS sends the browser back; the callback URL. */
async function throughAs(browser: Browser, loginAnswer: Hop, user = 'alice'): Promise<string> {
  const stopBefore = (url: URL): boolean => url.href.startsWith(`${stack.appUrl}/callback?`);
  const hops = await browser.follow(loginAnswer, { stopBefore });
  for (let step = 0; step < 4 && hops.at(-1)?.status === 200; step += 1) {
    const page = hops.at(-1)!;
    const prompt = parseFirstForm(page.body, page.url).fields.find(([name]) => name === 'prompt')?.[1];
    const posted = await browser.submitForm(
      page.body,
      page.url,
      prompt === 'login' ? { login: user, password: 'pw' } : {},
    );
    hops.push(posted, ...(await browser.follow(posted, { stopBefore })));
  }
  return hops.at(-1)!.location!;
}

describe('first logins started in several tabs at once', () => {
  it('finishes every tab, each at its own returnTo, each bound by a cookie of its own', async () => {
    const browser = stack.browser();
    const starts = await Promise.all(
      ['/a', '/b', '/c'].map((returnTo) =>
        browser.navigate(`${stack.appUrl}/login?returnTo=${encodeURIComponent(returnTo)}`),
      ),
    );
    const setCookies = starts.map((hop) => [hop.headers['set-cookie'] ?? []].flat());
    // No session is created for a login start; each tab's login has its own cookie.
    expect(setCookies.flat().filter((c) => c.startsWith('parlogin='))).toEqual([]);
    expect(
      new Set(setCookies.map((cookies) => cookies.find((c) => c.startsWith('parlogin-tx-'))?.split('=')[0]))
        .size,
    ).toBe(3);
    const callbacks: string[] = [];
    for (const start of starts) callbacks.push(await throughAs(browser, start));
    const landed = [];
    for (const callback of callbacks) {
      const done = await browser.navigate(callback);
      expect(done.status).toBe(303);
      landed.push(done.location);
    }
    expect(landed).toEqual([`${stack.appUrl}/a`, `${stack.appUrl}/b`, `${stack.appUrl}/c`]);
    expect((await browser.navigate(`${stack.appUrl}/me`)).status).toBe(200);
    // Each binding cookie is cleared at its callback, and a replay is refused.
    expect(browser.jar.all().filter((c) => c.name.startsWith('parlogin-tx-') && c.value !== '')).toEqual([]);
    expect((await browser.navigate(callbacks[0]!)).status).toBe(400);
  });

  it("does not let another browser's first login finish here (login CSRF stays impossible)", async () => {
    const attacker = stack.browser();
    const attackerStart = await attacker.navigate(`${stack.appUrl}/login`);
    const attackerCallback = await throughAs(attacker, attackerStart, 'mallory');

    const victim = stack.browser();
    await victim.navigate(`${stack.appUrl}/login`); // the victim has a first login of its own pending
    const tokenCalls = stack.record.filter((r) => r.endpoint === 'token').length;
    const refused = await victim.request(attackerCallback, {
      headers: { accept: 'application/json', 'sec-fetch-mode': 'cors' },
    });
    expect(refused.status).toBe(400);
    expect((JSON.parse(refused.body) as { error: string }).error).toBe('state_unknown');
    // Navigated to, the planted response only sends the victim into a fresh login of its own.
    const planted = await victim.navigate(attackerCallback);
    expect(planted.status).toBe(303);
    expect([...new URL(planted.location!).searchParams.keys()]).toEqual(['client_id', 'request_uri']);
    expect(stack.record.filter((r) => r.endpoint === 'token')).toHaveLength(tokenCalls);
    expect((await victim.navigate(`${stack.appUrl}/me`)).status).toBe(401);
    // The attacker's own browser can still finish it: the copy was not consumed by the refused attempt.
    expect((await attacker.navigate(attackerCallback)).status).toBe(303);
  });

  it("does not let a stolen authorization response finish in the thief's browser, even with a cookie of the right name", async () => {
    const victim = stack.browser();
    const victimStart = await victim.navigate(`${stack.appUrl}/login`);
    const stolen = await throughAs(victim, victimStart); // code and state, as a log or a history would keep them
    const state = new URL(stolen).searchParams.get('state')!;
    const name = `parlogin-tx-${flowId(state)}`;
    const [expiry] = victim.jar
      .all()
      .find((c) => c.name === name)!
      .value.split('.');
    const tokenCalls = stack.record.filter((r) => r.endpoint === 'token').length;
    for (const forged of ['1', `${expiry}.${'A'.repeat(22)}`]) {
      const thief = stack.browser();
      const refused = await thief.request(stolen, {
        headers: { accept: 'application/json', 'sec-fetch-mode': 'cors', cookie: `${name}=${forged}` },
      });
      expect(refused.status).toBe(400);
      expect((JSON.parse(refused.body) as { error: string }).error).toBe('state_unknown');
    }
    // The code never reached the token endpoint (the PKCE verifier was never handed out), and the victim still finishes.
    expect(stack.record.filter((r) => r.endpoint === 'token')).toHaveLength(tokenCalls);
    expect((await victim.navigate(stolen)).status).toBe(303);
    expect((await victim.navigate(`${stack.appUrl}/me`)).status).toBe(200);
  });
});

describe("a login started while another tab's callback is finishing", () => {
  it('finishes too, though that callback regenerated the session it was saved into', async () => {
    const browser = stack.browser();
    const { callbackUrl: firstCallback } = await browser.stepUntilCallback(stack.appUrl, { returnTo: '/a' });
    // Tab A's callback loads the session and waits at the token endpoint...
    let release!: () => void;
    tokenGate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const finishing = browser.navigate(firstCallback);
    await new Promise((resolve) => setTimeout(resolve, 100));
    // ...while tab B starts a login in that same session, saved after A's callback loaded it.
    const startB = await browser.navigate(`${stack.appUrl}/login?returnTo=%2Fb`);
    expect(startB.status).toBe(303);
    release();
    tokenGate = undefined;
    expect((await finishing).location).toBe(`${stack.appUrl}/a`);
    // The browser now holds A's regenerated session, which never had B's transaction.
    const secondCallback = await throughAs(browser, startB);
    const done = await browser.navigate(secondCallback);
    expect(done.status).toBe(303);
    expect(done.location).toBe(`${stack.appUrl}/b`);
    expect((await browser.navigate(`${stack.appUrl}/me`)).status).toBe(200);
    expect(browser.jar.all().filter((c) => c.name.startsWith('parlogin-tx-') && c.value !== '')).toEqual([]);
    expect((await browser.navigate(secondCallback)).status).toBe(400); // single use
  });
});
