import { describe, expect, it } from '@jest/globals';
import type session from 'express-session';
import { TtlMemoryStore } from '../../src/session/memory-store.js';

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
});
