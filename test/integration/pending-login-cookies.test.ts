/**
 * What crafted pending-login cookies cost (security review finding 5), against oidc-provider and a
 * real redis-server. A client may send hundreds of cookies named like pending logins
 * (`<session cookie>-tx-<flow id>`); the app must not turn each into a store read, a store delete
 * or a `Set-Cookie` header. Only cookies of the exact shape the middleware writes are looked at, and
 * of those only the newest `maxPendingLogins`: a callback reads at most that many entries, a `/login`
 * drops at most one login, and both still answer as they should.
 *
 * 900 cookies make a 45 KB `Cookie` header, past Node's default 16 KB limit: the app is also served
 * by a server that takes larger headers (as behind a proxy configured so, or with
 * `--max-http-header-size`), and the test browser reads large answers, so that the counts show
 * rather than a 431. Store calls are counted in Redis itself (`INFO commandstats`), entries by key.
 */
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Agent, getGlobalDispatcher, setGlobalDispatcher, type Dispatcher } from 'undici';
import type { Browser } from '../helpers/browser.js';
import { flowId } from '../../src/observability/debug.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { startStack, type Stack } from '../helpers/stack.js';

const MAX_PENDING_LOGINS = 5;
const CRAFTED = 900;
const JSON_FETCH = { accept: 'application/json', 'sec-fetch-mode': 'cors' };

let redis: TestRedis;
let stack: Stack;
/** The same app, taking request headers up to 256 KB. */
let large: Server;
let largeUrl: string;
let previousDispatcher: Dispatcher;

beforeAll(async () => {
  redis = await startRedis();
  stack = await startStack({ overrides: { redisUrl: redis.url, maxPendingLogins: MAX_PENDING_LOGINS } });
  large = createServer({ maxHeaderSize: 256 * 1024 }, stack.app);
  await new Promise<void>((resolve) => large.listen(0, '127.0.0.1', resolve));
  largeUrl = `http://127.0.0.1:${(large.address() as { port: number }).port}`;
  previousDispatcher = getGlobalDispatcher();
  setGlobalDispatcher(new Agent({ maxHeaderSize: 1024 * 1024 }));
});
afterAll(async () => {
  large.closeAllConnections();
  await new Promise((resolve) => large.close(resolve));
  await stack.close();
  await redis.close();
  const agent = getGlobalDispatcher();
  setGlobalDispatcher(previousDispatcher);
  await agent.close();
});

/** How many times Redis has run `command` so far. */
async function calls(command: string): Promise<number> {
  const info = String(await redis.inspect.info('commandstats'));
  return Number(new RegExp(`^cmdstat_${command}:calls=(\\d+)`, 'm').exec(info)?.[1] ?? 0);
}

/** The name prefix of pending-login cookies, and the store key of a flow. */
const cookiePrefix = (): string => `${stack.middleware().config.sessionCookieName}-tx-`;
const storeKey = (flow: string): string => `${stack.middleware().config.sessionPrefix}tx:${flow}`;

/**
 * Give `browser` {@link CRAFTED} cookies of the exact shape of pending logins nobody started,
 * expiring from `expiresAtMs` on, and as many of other shapes; their names, and the flows named.
 */
function plantCrafted(browser: Browser, expiresAtMs: number): { names: string[]; flows: string[] } {
  const names: string[] = [];
  const flows: string[] = [];
  const url = new URL(largeUrl);
  for (let i = 0; i < CRAFTED; i += 1) {
    const flow = flowId(`crafted-${i}`);
    flows.push(flow);
    const wellFormed = `${(expiresAtMs + i).toString(36)}.${'x'.repeat(21)}A`;
    const malformed = `${(expiresAtMs + i).toString(36)}.${'x'.repeat(20)}`;
    for (const [name, value] of [
      [`${cookiePrefix()}${flow}`, wellFormed],
      [`${cookiePrefix()}${flow}-`, malformed],
    ] as const) {
      browser.jar.store(url, `${name}=${value}; Path=/`);
      names.push(name);
    }
  }
  return { names, flows };
}

function forget(browser: Browser, names: string[]): void {
  for (const name of names) browser.jar.store(new URL(largeUrl), `${name}=; Path=/; Max-Age=0`);
}

const setCookiesOf = (headers: Record<string, string | string[] | undefined>): string[] =>
  [headers['set-cookie'] ?? []].flat();
const pushes = (): number => stack.record.filter((r) => r.endpoint === 'par').length;

describe(`${CRAFTED} crafted pending-login cookies`, () => {
  it('make a /login drop at most one stored login and answer with two Set-Cookie headers at most', async () => {
    const browser = stack.browser();
    expect((await browser.navigate(`${largeUrl}/login`)).status).toBe(303);
    // The crafted logins claim to be the newest, and the store holds an entry for each: any deleted shows.
    const { flows } = plantCrafted(browser, Date.now() + 3_600_000);
    await Promise.all(flows.map((flow) => redis.inspect.set(storeKey(flow), 'planted', { EX: 600 })));
    const gets = await calls('get');

    const login = await browser.navigate(`${largeUrl}/login`);
    expect(login.status).toBe(303);
    expect(new URL(login.location!).origin).toBe(new URL(stack.issuer).origin);
    const setCookies = setCookiesOf(login.headers);
    expect(setCookies.length).toBeLessThanOrEqual(2);
    expect(setCookies.join('\r\n').length).toBeLessThan(512);
    expect(await calls('get')).toBe(gets);
    const left = await Promise.all(flows.map((flow) => redis.inspect.exists(storeKey(flow))));
    expect(CRAFTED - left.reduce((sum, one) => sum + one, 0)).toBeLessThanOrEqual(1);
  });

  it('make a callback without state read maxPendingLogins entries at most; the login is retried', async () => {
    const browser = stack.browser();
    expect((await browser.navigate(`${largeUrl}/login`)).status).toBe(303);
    // Pending, but older than the browser's own login: the retry finds it among the newest.
    const { names } = plantCrafted(browser, Date.now() + 20_000);
    const [gets, pushed] = [await calls('get'), pushes()];

    const expired = new URL(`${largeUrl}/callback`);
    expired.search = new URLSearchParams({ error: 'invalid_request_uri', iss: stack.issuer }).toString();
    const answer = await browser.navigate(expired.href);
    expect(await calls('get')).toBeLessThanOrEqual(gets + MAX_PENDING_LOGINS);
    expect(answer.status).toBe(303);
    const retried = new URL(answer.location!);
    expect(retried.origin).toBe(new URL(stack.issuer).origin);
    expect([...retried.searchParams.keys()]).toEqual(['client_id', 'request_uri']);
    expect(pushes()).toBe(pushed + 1);
    expect(setCookiesOf(answer.headers).length).toBeLessThanOrEqual(3);

    forget(browser, names);
    const hops = await browser.continueLogin(answer, stack.appUrl);
    expect(hops.at(-1)!.url).toBe(`${stack.appUrl}/`);
    expect((await browser.request(`${stack.appUrl}/me`, { headers: JSON_FETCH })).status).toBe(200);
  });

  it('claiming to be newest, make a stateless callback read maxPendingLogins at most; coded error', async () => {
    const browser = stack.browser();
    plantCrafted(browser, Date.now() + 3_600_000);
    const gets = await calls('get');
    const expired = new URL(`${largeUrl}/callback`);
    expired.search = new URLSearchParams({ error: 'invalid_request_uri', iss: stack.issuer }).toString();
    const answer = await browser.request(expired.href, { headers: JSON_FETCH });
    expect(await calls('get')).toBeLessThanOrEqual(gets + MAX_PENDING_LOGINS);
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body)).toMatchObject({ error: 'authorization_error' });
    expect((await stack.browser().navigate(`${largeUrl}/`)).status).toBe(200);
  });

  it("leave a callback with state one read, and the browser's login completes", async () => {
    const browser = stack.browser();
    const { callbackUrl } = await browser.stepUntilCallback(stack.appUrl);
    plantCrafted(browser, Date.now() + 3_600_000);
    const gets = await calls('get');
    const done = await browser.navigate(callbackUrl.replace(stack.appUrl, largeUrl));
    expect(await calls('get')).toBeLessThanOrEqual(gets + 1);
    expect(done.status).toBe(303);
    expect(done.location).toBe(`${stack.appUrl}/`);
    expect((await browser.request(`${largeUrl}/me`, { headers: JSON_FETCH })).status).toBe(200);
  });
});
