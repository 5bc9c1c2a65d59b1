/**
 * Counting sessions without touching src/: in bench children only, the `set` of
 * express-session's MemoryStore and of our TtlMemoryStore is wrapped to remember every instance
 * that stores a session, so that the bench can count their keys and read a session back. The
 * wrapper costs one `Set.add` per save, alike in every child.
 *
 * @module
 */
import session from 'express-session';
import { TtlMemoryStore } from '../src/session/memory-store.js';

const stores = new Set<session.Store>();

for (const storeClass of [session.MemoryStore, TtlMemoryStore]) {
  // eslint-disable-next-line @typescript-eslint/unbound-method -- called below with .apply(this, args)
  const originalSet = storeClass.prototype.set;
  storeClass.prototype.set = function rememberingSet(
    this: session.Store,
    ...args: Parameters<typeof originalSet>
  ) {
    stores.add(this);
    return originalSet.apply(this, args);
  };
}

function ask<T>(
  call: (callback: (err: Error | null | undefined, value?: T | null) => void) => void,
): Promise<T | undefined> {
  return new Promise((resolve, reject) =>
    call((err, value) => (err ? reject(err) : resolve(value ?? undefined))),
  );
}

/** Sessions held by every in-memory store of this process (expired ones included until swept). */
export async function memoryStoreKeys(): Promise<number> {
  let count = 0;
  for (const store of stores) count += (await ask<number>((callback) => store.length!(callback))) ?? 0;
  return count;
}

/** One session as JSON, looked up in every in-memory store of this process. */
export async function storedSession(sid: string): Promise<string | undefined> {
  for (const store of stores) {
    const found = await ask<session.SessionData>((callback) => store.get(sid, callback));
    if (found !== undefined) return JSON.stringify(found);
  }
  return undefined;
}
