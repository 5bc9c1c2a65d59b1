/**
 * Complete logins, driven by the test browser (test/helpers/browser.ts): through an app (ours or
 * express-openid-connect), or directly against the AS with the PAR and token requests made by
 * hand. All three walk the AS's login and consent pages with the same code.
 *
 * @module
 */
import { createHash, randomBytes } from 'node:crypto';
import { Agent, request } from 'undici';
import { Browser, type Hop } from '../test/helpers/browser.js';
import { parseFirstForm } from '../test/helpers/html-form.js';
import type { ClientCredentials } from './stack.js';

/** The AS endpoints the direct walk uses. */
export interface AsEndpoints {
  issuer: string;
  par: string;
  authorization: string;
  token: string;
}

/** A browser after a login through an app, and the cookies that app set. */
export interface LoggedIn {
  browser: Browser;
  /** The `Cookie` header the browser sends to the app, restricted to cookies the app set. */
  cookieHeader: string;
}

const random = (): string => randomBytes(32).toString('base64url');
const agent = new Agent({ keepAliveTimeout: 30_000 });

function describe(hop: Hop | undefined): string {
  return hop === undefined
    ? 'no request'
    : `${hop.method} ${hop.url} → ${hop.status} ${hop.location ?? hop.body.slice(0, 200)}`;
}

/** Answer the AS's login and consent forms until the AS redirects to `redirectUri`; return that URL. */
async function walkAsPages(browser: Browser, start: string, redirectUri: string): Promise<string> {
  const stopBefore = (url: URL): boolean => url.href.startsWith(`${redirectUri}?`);
  const hops = await browser.follow(start, { stopBefore });
  for (let step = 0; step < 4 && hops.at(-1)?.status === 200; step += 1) {
    const page = hops.at(-1)!;
    const prompt = parseFirstForm(page.body, page.url).fields.find(([name]) => name === 'prompt')?.[1];
    if (prompt !== 'login' && prompt !== 'consent') throw new Error(`unexpected AS page: ${describe(page)}`);
    const isLogin = prompt === 'login';
    const posted = await browser.submitForm(
      page.body,
      page.url,
      isLogin ? { login: 'alice', password: 'any-password' } : {},
    );
    hops.push(posted, ...(await browser.follow(posted, { stopBefore })));
  }
  const last = hops.at(-1);
  if (last?.location === undefined || !stopBefore(new URL(last.location)))
    throw new Error(`the AS did not redirect back: ${describe(last)}`);
  return last.location;
}

/**
 * Log in through an app: its /login, the AS's pages, its /callback (expected to redirect with
 * `callbackStatus`). Returns the browser and the app's cookies.
 */
export async function loginThroughApp(
  appUrl: string,
  issuer: string,
  callbackStatus: number,
): Promise<LoggedIn> {
  const browser = new Browser({ issuer });
  const callbackUrl = await walkAsPages(browser, `${appUrl}/login`, `${appUrl}/callback`);
  const done = await browser.navigate(callbackUrl);
  if (done.status !== callbackStatus) throw new Error(`callback of ${appUrl}: ${describe(done)}`);
  const appOrigin = new URL(appUrl).origin;
  const appCookieNames = new Set(
    browser.seen
      .filter((hop) => new URL(hop.url).origin === appOrigin)
      .flatMap((hop) => [hop.headers['set-cookie'] ?? []].flat())
      .map((header) => header.slice(0, header.indexOf('='))),
  );
  const cookieHeader = browser.jar
    .all()
    .filter((cookie) => appCookieNames.has(cookie.name))
    .map((cookie) => `${cookie.name}=${cookie.value}`)
    .join('; ');
  return { browser, cookieHeader };
}

/** The same login with no app: PAR, the AS's pages and the token request, all by hand. */
export async function loginDirectly(
  as: AsEndpoints,
  client: ClientCredentials,
  redirectUri: string,
): Promise<void> {
  const authorization = `Basic ${Buffer.from(`${client.clientId}:${client.secret!}`).toString('base64')}`;
  const headers = { authorization, 'content-type': 'application/x-www-form-urlencoded' };
  const state = random();
  const verifier = random();
  const pushed = await request(as.par, {
    dispatcher: agent,
    method: 'POST',
    headers,
    body: new URLSearchParams({
      response_type: 'code',
      client_id: client.clientId,
      redirect_uri: redirectUri,
      scope: 'openid profile email',
      state,
      nonce: random(),
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
    }).toString(),
  });
  const { request_uri: requestUri } = (await pushed.body.json()) as { request_uri: string };
  if (pushed.statusCode !== 201) throw new Error(`PAR answered ${pushed.statusCode}`);

  const start = new URL(as.authorization);
  start.search = new URLSearchParams({ client_id: client.clientId, request_uri: requestUri }).toString();
  const callback = new URL(await walkAsPages(new Browser({ issuer: as.issuer }), start.href, redirectUri));
  if (callback.searchParams.get('state') !== state) throw new Error('the AS returned another state');

  const tokens = await request(as.token, {
    dispatcher: agent,
    method: 'POST',
    headers,
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: callback.searchParams.get('code') ?? '',
      redirect_uri: redirectUri,
      code_verifier: verifier,
    }).toString(),
  });
  const body = (await tokens.body.json()) as { id_token?: string };
  if (tokens.statusCode !== 200 || body.id_token === undefined)
    throw new Error(`the token endpoint answered ${tokens.statusCode}`);
}

/** Close the direct walk's connection pool. */
export function closeWalks(): Promise<void> {
  return agent.close();
}
