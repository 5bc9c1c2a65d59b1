/**
 * Pending logins bound to the browser, without an AS: single use, bound to the cookie, expiry, the
 * cap per browser, the pick for an error response without state, and what crafted cookies cost. The
 * flows through a real AS are in integration/first-login.test.ts, integration/login.test.ts and
 * integration/pending-login-cookies.test.ts.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import type { Request, Response } from 'express';
import { systemClock } from '../../src/clock.js';
import type { ParLoginContext } from '../../src/context.js';
import { flowId } from '../../src/observability/debug.js';
import {
  bindLogin,
  readStoredLogin,
  takeBoundLogin,
  takeLikelyBoundLogin,
} from '../../src/routes/login-binding.js';
import { memorySharedState, type SharedState } from '../../src/state/shared-state.js';
import { newTransaction, type LoginTransaction } from '../../src/state/transaction.js';

const shared = memorySharedState();
afterEach(() => shared.close());

function contextOf(overrides: Record<string, unknown> = {}, state: SharedState = shared): ParLoginContext {
  const config = {
    sessionCookieName: 'app',
    secure: false,
    maxPendingLogins: 3,
    maxRequestUriLifetimeSeconds: 600,
    loginGraceSeconds: 240,
    ...overrides,
  };
  return { config, shared: state, clock: systemClock() } as unknown as ParLoginContext;
}

/** A browser: the cookies it holds, and requests and responses that carry them. */
class Browser {
  readonly cookies = new Map<string, string>();
  readonly setCookies: string[] = [];

  request(): Request {
    const cookie = [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    return { headers: cookie === '' ? {} : { cookie } } as unknown as Request;
  }

  response(): Response {
    const res = {
      append: (name: string, value: string | string[]) => {
        expect(name).toBe('Set-Cookie');
        for (const header of [value].flat()) {
          this.setCookies.push(header);
          const [pair] = header.split(';');
          const [cookieName, cookieValue] = pair!.split('=') as [string, string];
          if (/Max-Age=0(;|$)/.test(header)) this.cookies.delete(cookieName);
          else this.cookies.set(cookieName, cookieValue);
        }
        return res;
      },
    };
    return res as unknown as Response;
  }
}

const pending = (lifetime = 300, extra: Partial<LoginTransaction> = {}): LoginTransaction => ({
  ...newTransaction('/p', lifetime),
  ...extra,
});

describe('bindLogin and takeBoundLogin', () => {
  it('sets an HttpOnly, SameSite=Lax cookie named after the flow, Secure only on https', async () => {
    const browser = new Browser();
    const tx = pending();
    await bindLogin(contextOf(), browser.request(), browser.response(), tx);
    expect(browser.setCookies[0]).toMatch(
      new RegExp(
        `^app-tx-${flowId(tx.state)}=[0-9a-z]+\\.[\\w-]{22}; Max-Age=(300|299); Path=/; HttpOnly; SameSite=Lax$`,
      ),
    );
    const secure = new Browser();
    await bindLogin(
      contextOf({ sessionCookieName: '__Host-app', secure: true }),
      secure.request(),
      secure.response(),
      pending(),
    );
    expect(secure.setCookies[0]).toMatch(/^__Host-app-tx-.*; HttpOnly; Secure; SameSite=Lax$/);
  });

  it('takes a login once, in the browser that started it, then says it was used', async () => {
    const ctx = contextOf();
    const browser = new Browser();
    const tx = pending();
    await bindLogin(ctx, browser.request(), browser.response(), tx);
    const stranger = new Browser();
    expect(await takeBoundLogin(ctx, stranger.request(), stranger.response(), tx.state)).toBe('unknown');

    const request = browser.request();
    expect(await takeBoundLogin(ctx, request, browser.response(), tx.state)).toEqual(tx);
    expect(browser.cookies.size).toBe(0); // cleared
    // Replayed with the old cookie (a double submit), or without it: used, never taken twice.
    expect(await takeBoundLogin(ctx, request, browser.response(), tx.state)).toBe('used');
    expect(await takeBoundLogin(ctx, browser.request(), browser.response(), tx.state)).toBe('used');
    expect(await takeBoundLogin(ctx, stranger.request(), stranger.response(), tx.state)).toBe('used');
  });

  it("does not hand a login to a browser that only knows its state: the cookie must hold the login's secret", async () => {
    const ctx = contextOf();
    const browser = new Browser();
    const tx = pending();
    await bindLogin(ctx, browser.request(), browser.response(), tx);
    // An attacker with the victim's state (a stolen authorization response) computes the cookie's name.
    const name = `app-tx-${flowId(tx.state)}`;
    const [expiry] = browser.cookies.get(name)!.split('.');
    for (const forged of ['1', `${expiry}`, `${expiry}.${'A'.repeat(22)}`, `${expiry}.`]) {
      const attacker = new Browser();
      attacker.cookies.set(name, forged);
      expect(await takeBoundLogin(ctx, attacker.request(), attacker.response(), tx.state)).toBe('unknown');
    }
    expect(
      await takeLikelyBoundLogin(
        ctx,
        (() => {
          const a = new Browser();
          a.cookies.set(name, `${expiry}.${'B'.repeat(22)}`);
          return a.request();
        })(),
        new Browser().response(),
      ),
    ).toBeUndefined();
    // Left for the browser that started it.
    expect(await takeBoundLogin(ctx, browser.request(), browser.response(), tx.state)).toEqual(tx);
  });

  it('answers unknown, never an exception, for an entry of another shape (a corrupt or foreign value)', async () => {
    const ctx = contextOf();
    for (const foreign of ['not json', '{}', 'null', '{"binding":1,"tx":{}}', JSON.stringify(pending())]) {
      const browser = new Browser();
      const tx = pending();
      await bindLogin(ctx, browser.request(), browser.response(), tx);
      await shared.set(`tx:${flowId(tx.state)}`, foreign, 60);
      expect(await takeBoundLogin(ctx, browser.request(), browser.response(), tx.state)).toBe('unknown');
      expect(await takeLikelyBoundLogin(ctx, browser.request(), browser.response())).toBeUndefined();
    }
  });

  it('answers unknown for a login stored by an older version (expiry without its unit)', async () => {
    const ctx = contextOf();
    const browser = new Browser();
    const tx = pending();
    await bindLogin(ctx, browser.request(), browser.response(), tx);
    const key = `tx:${flowId(tx.state)}`;
    const stored = readStoredLogin(await shared.get(key))!;
    const { expiresAtMs, ...older } = stored.tx;
    await shared.set(
      key,
      JSON.stringify({ binding: stored.binding, tx: { ...older, expiresAt: expiresAtMs } }),
      60,
    );
    expect(await takeBoundLogin(ctx, browser.request(), browser.response(), tx.state)).toBe('unknown');
  });

  it('keeps every field of a transaction through its stored form, a plain login in under 200 characters', async () => {
    const ctx = contextOf();
    const plain = pending(300, { request: { params: [] } });
    const rich = pending(300, {
      request: {
        params: [['prompt', 'login']],
        scope: 'openid api',
        maxAge: 60,
        redirectUri: 'https://a/cb',
      },
      requestUriExpiresAtMs: Date.now() + 60_000,
      retried: true,
      classic: true,
      silent: true,
      sealedDpopKey: 'v2.sealed',
    });
    for (const tx of [plain, rich, pending()]) {
      const browser = new Browser();
      await bindLogin(ctx, browser.request(), browser.response(), tx);
      const stored = (await shared.get(`tx:${flowId(tx.state)}`))!;
      expect(readStoredLogin(stored)?.tx).toEqual(tx);
      expect(await takeBoundLogin(ctx, browser.request(), browser.response(), tx.state)).toEqual(tx);
    }
    const browser = new Browser();
    await bindLogin(ctx, browser.request(), browser.response(), plain);
    expect((await shared.get(`tx:${flowId(plain.state)}`))!.length).toBeLessThan(200);
  });

  it('does not take a login whose cookie names the flow but whose state differs', async () => {
    const ctx = contextOf();
    const browser = new Browser();
    const tx = pending();
    await bindLogin(ctx, browser.request(), browser.response(), tx);
    expect(await takeBoundLogin(ctx, browser.request(), browser.response(), `${tx.state}x`)).toBe('unknown');
    expect(await takeBoundLogin(ctx, browser.request(), browser.response(), '__proto__')).toBe('unknown');
    // The flow of another state holding this login, with the cookie and secret to open it: what a flow id
    // collision (or an entry written under the wrong flow) gives. Only the state comparison refuses it.
    const other = pending().state;
    const flow = flowId(tx.state);
    const otherFlow = flowId(other);
    await shared.set(`tx:${otherFlow}`, (await shared.get(`tx:${flow}`))!, 60);
    browser.cookies.set(`app-tx-${otherFlow}`, browser.cookies.get(`app-tx-${flow}`)!);
    expect(await takeBoundLogin(ctx, browser.request(), browser.response(), other)).toBe('unknown');
    // Neither entry was taken: the login still opens for its own state.
    expect(await takeBoundLogin(ctx, browser.request(), browser.response(), tx.state)).toEqual(tx);
  });

  it('says expired for a login past its expiry', async () => {
    const ctx = contextOf();
    const browser = new Browser();
    const tx = { ...pending(), expiresAtMs: Date.now() - 1 };
    await bindLogin(ctx, browser.request(), browser.response(), tx);
    expect(await takeBoundLogin(ctx, browser.request(), browser.response(), tx.state)).toBe('expired');
  });

  it('keeps at most maxPendingLogins per browser, dropping the oldest', async () => {
    const ctx = contextOf({ maxPendingLogins: 3 });
    const browser = new Browser();
    const txs = [100, 200, 300, 400].map((lifetime) => pending(lifetime));
    for (const tx of txs) await bindLogin(ctx, browser.request(), browser.response(), tx);
    expect(browser.cookies.size).toBe(3);
    expect(await takeBoundLogin(ctx, browser.request(), browser.response(), txs[0]!.state)).toBe('unknown');
    for (const tx of txs.slice(1))
      expect(await takeBoundLogin(ctx, browser.request(), browser.response(), tx.state)).toEqual(tx);
  });
});

describe('takeLikelyBoundLogin', () => {
  it('takes the newest login whose request_uri expired, else the newest', async () => {
    const ctx = contextOf({ maxPendingLogins: 5 });
    const browser = new Browser();
    const now = Date.now();
    const expiredUri = pending(200, { requestUriExpiresAtMs: now - 1 });
    const newest = pending(300, { requestUriExpiresAtMs: now + 60_000 });
    for (const tx of [expiredUri, newest]) await bindLogin(ctx, browser.request(), browser.response(), tx);
    expect(await takeLikelyBoundLogin(ctx, browser.request(), browser.response())).toEqual(expiredUri);
    expect(await takeLikelyBoundLogin(ctx, browser.request(), browser.response())).toEqual(newest);
    expect(await takeLikelyBoundLogin(ctx, browser.request(), browser.response())).toBeUndefined();
  });
});

/** The shared state, counting the keys read and deleted (a measurement: the store itself is real). */
function counted(): { state: SharedState; reads: string[]; deletes: string[] } {
  const reads: string[] = [];
  const deletes: string[] = [];
  const state: SharedState = {
    ...shared,
    kind: shared.kind,
    get: (key) => (reads.push(key), shared.get(key)),
    delete: (...keys) => (deletes.push(...keys), shared.delete(...keys)),
  };
  return { state, reads, deletes };
}

/** `count` cookies of the exact shape bindLogin writes, for flows nobody started, expiring at `expiresAtMs`. */
function craftedCookies(count: number, expiresAtMs: number): Array<[string, string]> {
  return Array.from({ length: count }, (_, i) => [
    `app-tx-${flowId(`crafted-${i}`)}`,
    `${(expiresAtMs + i).toString(36)}.${'x'.repeat(21)}A`,
  ]);
}

describe('crafted pending-login cookies', () => {
  it('ignores cookies whose flow id or value is not of the shape written: never read nor answered', async () => {
    const { state, reads, deletes } = counted();
    const ctx = contextOf({ maxPendingLogins: 1 }, state);
    const browser = new Browser();
    const tx = pending();
    await bindLogin(ctx, browser.request(), browser.response(), tx);
    const [expiry, secret] = browser.cookies.get(`app-tx-${flowId(tx.state)}`)!.split('.') as [
      string,
      string,
    ];
    const flow = flowId(pending().state);
    const malformed: Array<[string, string]> = [
      [`app-tx-${flow}x`, `${expiry}.${secret}`], // flow id too long
      [`app-tx-${flow.slice(1)}`, `${expiry}.${secret}`], // too short
      [`app-tx-${flow.slice(1)}.`, `${expiry}.${secret}`], // outside base64url
      [`app-tx-${flow}`, `Z${expiry}.${secret}`], // expiry not in lowercase base36
      [`app-tx-${flow.slice(1)}a`, `0${expiry}.${secret}`], // a leading zero
      [`app-tx-${flow.slice(1)}b`, `${expiry}.${secret}x`], // secret too long
      [`app-tx-${flow.slice(1)}c`, `${expiry}.${secret.slice(1)}`], // too short
      [`app-tx-${flow.slice(1)}d`, `${expiry}.${secret.slice(0, 21)}B`], // more than 16 bytes
      [`app-tx-${flow.slice(1)}e`, `${expiry}.${secret}.x`], // a third part
      [`app-tx-${flow.slice(1)}f`, `"${expiry}.${secret}"`], // quoted
      [`app-tx-${flow.slice(1)}g`, `${'z'.repeat(11)}.${secret}`], // past Number.MAX_SAFE_INTEGER
    ];
    for (const [name, value] of malformed) browser.cookies.set(name, value);
    reads.length = 0;
    expect(await takeLikelyBoundLogin(ctx, browser.request(), browser.response())).toEqual(tx);
    expect(reads).toEqual([`tx:${flowId(tx.state)}`]);

    // A full browser (maxPendingLogins 1) drops its one pending login, never the malformed ones.
    const before = browser.setCookies.length;
    const next = pending();
    await bindLogin(ctx, browser.request(), browser.response(), pending());
    await bindLogin(ctx, browser.request(), browser.response(), next);
    expect(browser.setCookies.length - before).toBe(3);
    expect(deletes).toHaveLength(1);
    expect(
      browser.setCookies.slice(before).every((c) => !malformed.some(([name]) => c.startsWith(`${name}=`))),
    ).toBe(true);
    expect(await takeBoundLogin(ctx, browser.request(), browser.response(), next.state)).toEqual(next);
  });

  it('weighs the newest maxPendingLogins of 900 crafted cookies: bounded reads, deletes, Set-Cookie', async () => {
    const { state, reads, deletes } = counted();
    const ctx = contextOf({ maxPendingLogins: 5 }, state);
    const browser = new Browser();
    const older = pending(60); // crafted cookies claim later expiries than this login
    const newer = pending(900); // and earlier ones than this
    for (const tx of [older, newer]) await bindLogin(ctx, browser.request(), browser.response(), tx);
    for (const [name, value] of craftedCookies(900, Date.now() + 120_000)) browser.cookies.set(name, value);

    reads.length = 0;
    expect(await takeLikelyBoundLogin(ctx, browser.request(), browser.response())).toEqual(newer);
    expect(reads.length).toBeLessThanOrEqual(5);

    const before = browser.setCookies.length;
    deletes.length = 0;
    await bindLogin(ctx, browser.request(), browser.response(), pending());
    const answered = browser.setCookies.slice(before);
    expect(answered.length).toBeLessThanOrEqual(2);
    expect(answered.join('\r\n').length).toBeLessThan(400);
    expect(deletes.length).toBeLessThanOrEqual(1);
    // A login the browser presents is still taken by its state, with one read, among all those cookies.
    reads.length = 0;
    expect(await takeBoundLogin(ctx, browser.request(), browser.response(), older.state)).toEqual(older);
    expect(reads).toHaveLength(1);
  });

  it('finishes every tab when two logins at once leave one cookie more than maxPendingLogins', async () => {
    const ctx = contextOf({ maxPendingLogins: 3 });
    const browser = new Browser();
    const first = [pending(100), pending(200)];
    for (const tx of first) await bindLogin(ctx, browser.request(), browser.response(), tx);
    // Two tabs start a login with the same cookies: neither sees the other's.
    const request = browser.request();
    const racing = [pending(300), pending(400)];
    for (const tx of racing) await bindLogin(ctx, request, browser.response(), tx);
    expect(browser.cookies.size).toBe(4);
    for (const tx of [...first, ...racing])
      expect(await takeBoundLogin(ctx, browser.request(), browser.response(), tx.state)).toEqual(tx);
  });
});
