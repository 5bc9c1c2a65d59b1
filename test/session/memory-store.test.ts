import { describe, expect, it, jest } from '@jest/globals';
import session from 'express-session';
import { storedSessionCookie } from '../../src/session/cookies.js';
import { TtlMemoryStore } from '../../src/session/memory-store.js';

/** express-session's Cookie, as it builds one from its options (its types declare no constructor argument). */
const cookieOf = (options: session.CookieOptions): session.Cookie =>
  new (session.Cookie as unknown as new (options: session.CookieOptions) => session.Cookie)(options);

const get = (store: TtlMemoryStore, sid: string) =>
  new Promise((resolve) => store.get(sid, (_e, s) => resolve(s)));

describe('TtlMemoryStore', () => {
  it('expires each session after its own lifetime and sweeps expired ones', async () => {
    const store = new TtlMemoryStore((sess) => ((sess as unknown as { short?: boolean }).short ? 0.05 : 60));
    store.set('short', { short: true } as unknown as session.SessionData);
    store.set('long', {} as session.SessionData);
    expect(await get(store, 'short')).toEqual({ short: true });
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(await get(store, 'short')).toBeNull();
    store.set('short2', { short: true } as unknown as session.SessionData);
    store.sweep(Date.now() + 1000);
    expect(store.size).toBe(1);
    expect(await get(store, 'long')).toEqual({});
    store.close();
  });

  it('stores copies, deletes when the lifetime is zero, and destroys', async () => {
    const store = new TtlMemoryStore((sess) => ((sess as unknown as { gone?: boolean }).gone ? 0 : 60));
    const data = { n: 1 } as unknown as session.SessionData;
    store.set('a', data);
    (data as unknown as { n: number }).n = 2;
    expect(await get(store, 'a')).toEqual({ n: 1 });
    store.set('a', { gone: true } as unknown as session.SessionData);
    expect(await get(store, 'a')).toBeNull();
    store.set('b', {} as session.SessionData);
    store.destroy('b');
    expect(store.size).toBe(0);
    store.close();
  });

  it("keeps a session with its parLogin()'s cookie without the cookie, and hands it out as express-session wrote it", async () => {
    const maxAgeMs = 3_600_000;
    const storedCookie = jest.fn((expiresMs: number) => storedSessionCookie(maxAgeMs, true, expiresMs));
    const store = new TtlMemoryStore(() => 60, { cookie: storedCookie });
    // express-session's Cookie reads the clock twice while it sets its lifetime: a millisecond passing
    // between the two makes originalMaxAge one short, and the store then (rightly) keeps the cookie.
    const now = jest.spyOn(Date, 'now').mockReturnValue(Date.now());
    const cookie = cookieOf({
      httpOnly: true,
      sameSite: 'lax',
      secure: true,
      path: '/',
      maxAge: maxAgeMs,
    });
    const data = { cookie, parLogin: { user: { sub: 'alice' } } } as unknown as session.SessionData;
    store.set('default', data);
    storedCookie.mockClear();
    expect(JSON.parse(JSON.stringify(await get(store, 'default')))).toEqual(JSON.parse(JSON.stringify(data)));
    expect(storedCookie).toHaveBeenCalledTimes(1); // rebuilt: it was kept without its cookie

    // A cookie the app changed (a longer lifetime) is kept as it is.
    const changed = cookieOf({
      httpOnly: true,
      sameSite: 'lax',
      secure: true,
      path: '/',
      maxAge: 2 * maxAgeMs,
    });
    const own = { cookie: changed, parLogin: {} } as unknown as session.SessionData;
    store.set('changed', own);
    storedCookie.mockClear();
    expect(await get(store, 'changed')).toEqual(JSON.parse(JSON.stringify(own)));
    expect(storedCookie).not.toHaveBeenCalled();
    now.mockRestore();
    store.close();
  });

  it("hands a session out on a later turn of the event loop, as express-session's MemoryStore does", async () => {
    const store = new TtlMemoryStore(() => 60);
    store.set('a', { n: 1 } as unknown as session.SessionData);
    const answers: unknown[] = [];
    store.get('a', (_err, sess) => answers.push(sess));
    store.get('missing', (_err, sess) => answers.push(sess));
    expect(answers).toEqual([]); // not at once
    await new Promise((resolve) => setImmediate(resolve));
    expect(answers).toEqual([{ n: 1 }, null]);
    store.close();
  });
});
