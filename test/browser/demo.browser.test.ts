/**
 * The demo in a real browser: Debian's chromium driven by playwright-core against the very setup
 * `npm run demo` runs (sample-app/demo-stack.ts), on free ports. Every step is saved as a screenshot
 * in test/browser/screenshots/.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdirSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startDemo, type Demo } from '../../sample-app/demo-stack.js';

const SHOTS = new URL('./screenshots/', import.meta.url).pathname;
const EXECUTABLE = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

let demo: Demo;
let browser: Browser;

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  demo = await startDemo();
  browser = await chromium.launch({ executablePath: EXECUTABLE, headless: true, args: ['--no-sandbox'] });
});
afterAll(async () => {
  await browser?.close();
  await demo?.close();
});

/** Every URL the page's main frame navigated to, redirects included (each was in the address bar, if briefly). */
function addressBar(page: Page): string[] {
  const urls: string[] = [];
  page.on('request', (request) => {
    if (request.isNavigationRequest() && request.frame() === page.mainFrame()) urls.push(request.url());
  });
  return urls;
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: `${SHOTS}${name}.png`, fullPage: true });
}

/** Sign in and consent on the demo AS's pages, from its login page. */
async function signInAtAs(page: Page, user: string, prefix: string): Promise<void> {
  await page.waitForSelector('input[name="login"]');
  await shot(page, `${prefix}-2-as-login`);
  await page.fill('input[name="login"]', user);
  await page.fill('input[name="password"]', 'any-password');
  await Promise.all([page.waitForNavigation(), page.click('button[type="submit"]')]);
  if (new URL(page.url()).origin === new URL(demo.issuer).origin) {
    await shot(page, `${prefix}-3-as-consent`);
    await Promise.all([page.waitForNavigation(), page.click('button[type="submit"]')]);
  }
}

/** The AS URLs the address bar showed carry at most client_id and request_uri in their query. */
function expectShortAsUrls(urls: string[]): void {
  const asUrls = urls.filter((url) => url.startsWith(demo.issuer));
  expect(asUrls.length).toBeGreaterThan(0);
  for (const url of asUrls) {
    const keys = [...new URL(url).searchParams.keys()].sort();
    expect(keys.every((key) => key === 'client_id' || key === 'request_uri')).toBe(true);
  }
  const authorization = asUrls.filter((url) => new URL(url).pathname === '/auth');
  expect(authorization.length).toBeGreaterThan(0);
  for (const url of authorization)
    expect([...new URL(url).searchParams.keys()].sort()).toEqual(['client_id', 'request_uri']);
}

describe('the demo in chromium', () => {
  let context: BrowserContext;
  beforeAll(async () => {
    context = await browser.newContext();
  });
  afterAll(async () => {
    await context.close();
  });

  it('logs in by clicking "Log in", keeps the session on reload, and logs out with the button', async () => {
    const page = await context.newPage();
    const bar = addressBar(page);
    await page.goto(`${demo.appUrl}/`);
    await shot(page, 'login-1-home');
    await Promise.all([page.waitForNavigation(), page.click('text=Log in')]);
    await signInAtAs(page, 'alice', 'login');
    await page.waitForURL(`${demo.appUrl}/profile`);
    await shot(page, 'login-4-profile');
    expect(await page.textContent('h1')).toBe('Alice Example');
    expectShortAsUrls(bar);

    // The demo panel teaches what happened: pushed parameters, the request_uri, the short URL.
    const panel = await page.textContent('#par-panel');
    expect(panel).toContain('code_challenge_method');
    expect(panel).toContain('request_uri');
    const frontChannel = await page.textContent('#front-channel-url');
    expect([...new URL(frontChannel!, demo.issuer).searchParams.keys()].sort()).toEqual([
      'client_id',
      'request_uri',
    ]);
    expect(panel).not.toContain(
      String(demo.record.find((r) => r.endpoint === 'token')?.body.code ?? 'no-code'),
    );
    // The client's credentials (HTTP Basic at the PAR endpoint) are never on the page.
    const basic = demo.record.find((r) => r.endpoint === 'par')!.authorization!.split(' ')[1]!;
    const [clientId, secret] = Buffer.from(basic, 'base64').toString().split(':').map(decodeURIComponent);
    expect(clientId).toBe('sample-app');
    expect(secret!.length).toBeGreaterThan(20);
    expect(await page.content()).not.toContain(secret!);

    await page.reload();
    await shot(page, 'login-5-reloaded');
    expect(page.url()).toBe(`${demo.appUrl}/profile`);
    expect(await page.textContent('h1')).toBe('Alice Example');

    // Log out with the button: the app ends its session, then the AS asks whether to end its own.
    await Promise.all([
      page.waitForURL((url) => url.origin === new URL(demo.issuer).origin),
      page.click('button:has-text("Log out")'),
    ]);
    await shot(page, 'login-6-as-logout');
    expect(await page.textContent('h1')).toContain('Sign out of the demo AS');
    await Promise.all([
      page.waitForURL(`${demo.appUrl}/`),
      page.click('button:has-text("Yes, sign me out")'),
    ]);
    await shot(page, 'login-7-logged-out');
    expect(await page.textContent('h1')).toBe('Welcome');
    const me = await page.goto(`${demo.appUrl}/me`);
    expect(me!.status()).toBe(401);
  });
});

describe('two tabs logging in at once', () => {
  it('completes both first logins in one browser, their callbacks racing', async () => {
    const context = await browser.newContext();
    try {
      // The AS's forms are not what is tested here, and oidc-provider itself refuses two sign-in forms
      // raced in one browser ("interaction session and authentication session mismatch"). So sign in at
      // the AS once, then forget the app's cookies: both tabs then start a first login at the app at
      // once, and the AS sends both straight back, so their callbacks race too. Each returns to a
      // page of its own: a tab whose login was lost would be restarted and land on "/" instead.
      const warmUp = await context.newPage();
      await warmUp.goto(`${demo.appUrl}/login`);
      await signInAtAs(warmUp, 'bob', 'tabs-1');
      await warmUp.waitForURL(`${demo.appUrl}/`);
      await warmUp.close();
      await context.clearCookies({ name: /^parlogin/ });
      expect(
        (await context.cookies(demo.appUrl)).filter((cookie) => cookie.name.startsWith('parlogin')),
      ).toEqual([]);

      const [first, second] = [await context.newPage(), await context.newPage()];
      const bars = [addressBar(first), addressBar(second)];
      await Promise.all([
        first.goto(`${demo.appUrl}/login?returnTo=%2Fprofile`),
        second.goto(`${demo.appUrl}/login?returnTo=%2F%3Ftab%3D2`),
      ]);
      await Promise.all([
        first.waitForURL(`${demo.appUrl}/profile`),
        second.waitForURL(`${demo.appUrl}/?tab=2`),
      ]);
      await shot(first, 'tabs-4-first-done');
      await shot(second, 'tabs-4-second-done');
      expect(await first.textContent('h1')).toBe('Bob Example');
      expect(await second.textContent('h1')).toBe('Hello, Bob Example');
      for (const bar of bars) {
        expectShortAsUrls(bar);
        expect(bar.some((url) => url.startsWith(`${demo.appUrl}/callback?`))).toBe(true);
      }
    } finally {
      await context.close();
    }
  });
});
