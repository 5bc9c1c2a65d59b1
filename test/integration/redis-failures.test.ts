/**
 * Redis failing in part, against a real redis-server and oidc-provider: an ACL takes one command
 * away from the app's Redis user at a time (as a misconfigured ACL, a read-only replica or a
 * Cluster refusing a command would), and `CLIENT PAUSE` holds every command. Whatever fails, no
 * session is half made, none is lost, a logout still ends the session and reaches the AS, and a
 * request answers 503 within the deadline with a log record that carries the cause's message.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser } from '../helpers/browser.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { startStack, type Stack } from '../helpers/stack.js';

const JSON_FETCH = { accept: 'application/json', 'sec-fetch-mode': 'cors' };
const DEADLINE_MS = 300;

let redis: TestRedis;
let stack: Stack;

/** Set the app's Redis user: every command and key, then `rules` (ACL SETUSER syntax) on top. */
async function acl(...rules: string[]): Promise<void> {
  await redis.inspect.sendCommand([
    'ACL',
    'SETUSER',
    'app',
    'reset',
    'on',
    '>app-password-0123456789',
    '~*',
    '&*',
    '+@all',
    ...rules,
  ]);
}
/** Every command but `denied`. */
const allowAllBut = (...denied: string[]): Promise<void> => acl(...denied.map((command) => `-${command}`));

const sessionKeys = () => redis.inspect.keys('parlogin:*');
const tokenKeys = () => redis.inspect.keys('parlogin-state:tokens:*');
const indexKeys = () => redis.inspect.keys('parlogin-state:bcl:*');
async function me(browser: Browser): Promise<number> {
  return (await browser.request(`${stack.appUrl}/me`, { headers: JSON_FETCH })).status;
}

beforeAll(async () => {
  redis = await startRedis();
  await allowAllBut();
  const url = new URL(redis.url);
  url.username = 'app';
  url.password = 'app-password-0123456789';
  stack = await startStack({ overrides: { redisUrl: url.href, redisCommandTimeoutMs: DEADLINE_MS } });
  await stack.middleware().ready();
});
afterEach(async () => {
  await allowAllBut();
  await redis.inspect.flushAll();
});
afterAll(async () => {
  await stack.close();
  await redis.close();
});

describe('a callback whose storage step fails', () => {
  it.each([
    ['the logout index', ['-sadd']],
    // Sessions read-only, the shared state writable: the token record and the index are written first.
    ['the session record', ['resetkeys', '~parlogin-state:*', '%R~parlogin:*']],
  ])('leaves no session, no cookie and no token record when %s cannot be written', async (_what, rules) => {
    const browser = stack.browser();
    const { callbackUrl } = await browser.stepUntilCallback(stack.appUrl);
    await acl(...rules);
    const hop = await browser.navigate(callbackUrl);
    expect(hop.status).toBe(503);
    expect(hop.body).toContain('<code>session_store_unavailable</code>');
    expect(String(hop.headers['set-cookie'] ?? '')).not.toMatch(/(^|,\s*)parlogin=/);
    await allowAllBut();
    expect(await me(browser)).toBe(401);
    expect(await sessionKeys()).toEqual([]);
    expect(await tokenKeys()).toEqual([]);
    expect(await indexKeys()).toEqual([]);
    expect(stack.logs.at(-1)).toMatchObject({ code: 'session_store_unavailable' });
    expect(String(stack.logs.at(-1)!.cause)).toContain('NOPERM');
  });
});

describe('a logout whose cleanup fails', () => {
  it('still ends the session and still sends the browser to the AS', async () => {
    const browser = stack.browser();
    await browser.login(stack.appUrl);
    expect(await sessionKeys()).toHaveLength(1);
    await allowAllBut('srem');
    const page = await browser.navigate(`${stack.appUrl}/logout`);
    const hop = await browser.submitForm(page.body, page.url);
    expect(hop.status).toBe(303);
    expect(new URL(hop.location!).origin).toBe(new URL(stack.issuer).origin);
    expect(await sessionKeys()).toEqual([]);
    expect(await me(browser)).toBe(401);
    expect(stack.logs.at(-1)).toMatchObject({
      level: 'warn',
      code: 'logout_cleanup_failed',
      cause_code: 'session_store_unavailable',
    });
    expect(String(stack.logs.at(-1)!.cause)).toContain('NOPERM');
  });
});

describe('a session read that fails', () => {
  it('answers 503 and never deletes the session it could not read', async () => {
    const browser = stack.browser();
    await browser.login(stack.appUrl);
    const [key] = await sessionKeys();
    await allowAllBut('getex');
    expect(await me(browser)).toBe(503);
    // A public page is served without the session, and must not delete it either.
    expect((await browser.navigate(`${stack.appUrl}/`)).status).toBe(200);
    expect(await redis.inspect.exists(key!)).toBe(1);
    expect(String(stack.logs.at(-1)!.cause)).toContain('NOPERM');
    await allowAllBut();
    expect(await me(browser)).toBe(200);
  });
});

describe('a Redis that holds every command', () => {
  it('answers 503 within the deadline, logs the outage with its cause, and recovers', async () => {
    const browser = stack.browser();
    await browser.login(stack.appUrl);
    const before = stack.logs.length;
    await redis.inspect.sendCommand(['CLIENT', 'PAUSE', '1500', 'ALL']);
    const started = Date.now();
    const status = await me(browser);
    const elapsedMs = Date.now() - started;
    expect(status).toBe(503);
    expect(elapsedMs).toBeLessThan(DEADLINE_MS + 700);
    const outage = stack.logs.slice(before).find((r) => r.msg?.toString().includes('unavailable'));
    expect(outage).toMatchObject({ level: 'error', topology: 'server' });
    expect(String(outage!.cause)).toContain('REDIS_COMMAND_TIMEOUT_MS');
    await new Promise((resolve) => setTimeout(resolve, 1_600));
    // The same session: the reads that failed during the pause did not delete it.
    expect(await me(browser)).toBe(200);
    expect(stack.logs.slice(before)).toContainEqual(
      expect.objectContaining({ code: 'session_store_recovered', topology: 'server' }),
    );
  });
});
