/**
 * Finish what a browser started at oidc-provider: submit its login and consent forms until the
 * browser is back at the app (or stops elsewhere).
 *
 * @module
 */
import type { Browser, Hop } from './browser.js';

/** Submit the AS's login/consent forms from the last hop on; returns every hop, the app's page last. */
export async function completeAtAs(
  browser: Browser,
  hops: Hop[],
  appUrl: string,
  user = 'alice',
): Promise<Hop[]> {
  const all = [...hops];
  const app = new URL(appUrl).origin;
  for (let step = 0; step < 5; step += 1) {
    const page = all.at(-1)!;
    if (page.status !== 200 || new URL(page.url).origin === app) break;
    const isLogin = page.body.includes('name="login"');
    const posted = await browser.submitForm(
      page.body,
      page.url,
      isLogin ? { login: user, password: 'any-password' } : {},
    );
    all.push(posted, ...(await browser.follow(posted)));
  }
  return all;
}
