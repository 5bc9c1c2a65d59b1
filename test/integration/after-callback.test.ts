/**
 * The `afterCallback` hook against oidc-provider: it sees the validated claims and the tokens, may
 * shape the session's claims (never the protocol ones), may refuse a login with a 403 the user
 * reads, and a hook that fails or answers nonsense ends the login with `after_callback_failed`.
 * Whatever the hook does short of success, no session and no token record are kept.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { ParLoginError, type AfterCallback, type CallbackTokens } from '../../src/index.js';
import { contextOf } from '../helpers/tokens.js';
import { startStack, type Stack } from '../helpers/stack.js';

const JSON_FETCH = { accept: 'application/json', 'sec-fetch-mode': 'cors' };

describe('afterCallback', () => {
  let stack: Stack;
  /** What the next login's hook does. */
  let behaviour: AfterCallback = () => undefined;
  const seen: { path: string; sub: unknown; tokens: CallbackTokens }[] = [];
  beforeAll(async () => {
    stack = await startStack({
      overrides: {
        afterCallback: (req, claims, tokens) => {
          seen.push({ path: req.path, sub: claims.sub, tokens });
          return behaviour(req, claims, tokens);
        },
      },
    });
  });
  beforeEach(() => {
    seen.length = 0;
  });
  afterAll(() => stack.close());

  async function me(browser: ReturnType<Stack['browser']>) {
    const hop = await browser.request(`${stack.appUrl}/me`, { headers: JSON_FETCH });
    return { status: hop.status, body: JSON.parse(hop.body) as { claims?: Record<string, unknown> } };
  }

  /** How many token records the instance wrote (its vault, watched). */
  let vaultWrites = 0;
  function tokenRecords(): number {
    return vaultWrites;
  }
  beforeAll(() => {
    const { vault } = contextOf(stack.middleware());
    const write = vault.write.bind(vault);
    (vault as { write: typeof write }).write = (...args) => {
      vaultWrites += 1;
      return write(...args);
    };
  });

  it('sees the claims and tokens, and what it returns is what the session holds, protocol claims kept', async () => {
    behaviour = async (_req, claims) => {
      await new Promise((resolve) => setImmediate(resolve));
      return { ...claims, roles: ['editor'], sub: 'someone-else', acr: 'urn:made:up', name: undefined };
    };
    const browser = stack.browser();
    const hops = await browser.login(stack.appUrl, { user: 'alice' });
    expect(hops.at(-1)!.status).toBe(200);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.path).toBe('/callback');
    expect(seen[0]!.sub).toBe('alice');
    expect(seen[0]!.tokens.tokenType).toMatch(/^bearer$/i);
    expect(typeof seen[0]!.tokens.accessToken).toBe('string');
    expect(seen[0]!.tokens.idToken.split('.')).toHaveLength(3);
    expect(Object.isFrozen(seen[0]!.tokens)).toBe(true);
    const { status, body } = await me(browser);
    expect(status).toBe(200);
    expect(body.claims).toMatchObject({ sub: 'alice', roles: ['editor'] });
    expect(body.claims!.acr).not.toBe('urn:made:up');
  });

  it('changes nothing when it mutates its argument and returns nothing', async () => {
    behaviour = (_req, claims) => {
      (claims as Record<string, unknown>).roles = ['admin'];
    };
    const browser = stack.browser();
    await browser.login(stack.appUrl, { user: 'alice' });
    const { body } = await me(browser);
    expect(body.claims!.sub).toBe('alice');
    expect(body.claims!.roles).toBeUndefined();
  });

  it('refuses a login with login_refused: a 403 page with its message, escaped, and nothing kept', async () => {
    behaviour = (_req, claims) => {
      if (claims.sub === 'mallory') throw new ParLoginError('login_refused', 'Account <b>suspended</b>.');
    };
    const before = tokenRecords();
    const browser = stack.browser();
    const hops = await browser.login(stack.appUrl, { user: 'mallory' });
    const page = hops.at(-1)!;
    expect(page.status).toBe(403);
    expect(page.body).toContain('<code>login_refused</code>');
    expect(page.body).toContain('Account &lt;b&gt;suspended&lt;/b&gt;.');
    expect(page.headers['set-cookie'] ?? '').not.toMatch(/parlogin=/);
    expect((await me(browser)).status).toBe(401);
    expect(tokenRecords()).toBe(before);
    expect(stack.logs.at(-1)).toMatchObject({ code: 'login_refused', status: 403, path: '/callback' });

    // Another user still gets in: the hook's refusal is per login.
    const alice = stack.browser();
    await alice.login(stack.appUrl, { user: 'alice' });
    expect((await me(alice)).status).toBe(200);
  });

  it.each<[string, AfterCallback, RegExp]>([
    [
      'throws',
      () => {
        throw new Error('accounts database is down');
      },
      /accounts database is down/,
    ],
    ['rejects', () => Promise.reject(new TypeError('provisioning failed')), /provisioning failed/],
    ['returns a string', () => 'alice' as never, /returned a string/],
    ['returns an array', () => [] as never, /returned an array/],
    ['returns null', () => null as never, /returned null/],
  ])(
    'fails the login with after_callback_failed when it %s, and keeps nothing',
    async (_name, hook, logged) => {
      behaviour = hook;
      const before = tokenRecords();
      const browser = stack.browser();
      const page = (await browser.login(stack.appUrl, { user: 'alice' })).at(-1)!;
      expect(page.status).toBe(500);
      expect(page.body).toContain('<code>after_callback_failed</code>');
      // The cause is the operator's, not the user's: it is in the log record, not on the page.
      expect(page.body).not.toMatch(logged);
      const record = stack.logs.at(-1)!;
      expect(record).toMatchObject({ code: 'after_callback_failed', status: 500 });
      expect(`${String(record.cause)} ${String(record.hint)}`).toMatch(logged);
      expect((await me(browser)).status).toBe(401);
      expect(tokenRecords()).toBe(before);
    },
  );
});
