/**
 * A small in-memory storage adapter for the demo authorization server. oidc-provider ships one too,
 * but warns loudly when it is used; this one is per provider instance and forgets everything when
 * the process ends, which is exactly what a demo and the tests want.
 *
 * @module
 */
import type { Adapter, AdapterFactory, AdapterPayload } from 'oidc-provider';

interface Entry {
  payload: AdapterPayload;
  expiresAt: number;
}

/**
 * Create an adapter factory whose models share one `Map`, private to this factory.
 *
 * @returns A value for oidc-provider's `adapter` configuration option.
 */
export function createMemoryAdapter(): AdapterFactory {
  const entries = new Map<string, Entry>();
  const live = (key: string): Entry | undefined => {
    const entry = entries.get(key);
    if (entry === undefined || entry.expiresAt > Date.now()) return entry;
    entries.delete(key);
    return undefined;
  };
  const findBy = (model: string, field: 'uid' | 'userCode', value: string): AdapterPayload | undefined => {
    for (const key of entries.keys()) {
      const entry = key.startsWith(`${model}:`) ? live(key) : undefined;
      if (entry?.payload[field] === value) return entry.payload;
    }
    return undefined;
  };

  return (model: string): Adapter => ({
    upsert(id, payload, expiresIn) {
      const expiresAt = expiresIn === undefined ? Number.POSITIVE_INFINITY : Date.now() + expiresIn * 1000;
      entries.set(`${model}:${id}`, { payload, expiresAt });
      return Promise.resolve();
    },
    find(id) {
      return Promise.resolve(live(`${model}:${id}`)?.payload);
    },
    findByUid(uid) {
      return Promise.resolve(findBy(model, 'uid', uid));
    },
    findByUserCode(userCode) {
      return Promise.resolve(findBy(model, 'userCode', userCode));
    },
    consume(id) {
      const entry = live(`${model}:${id}`);
      if (entry !== undefined) entry.payload.consumed = Math.floor(Date.now() / 1000);
      return Promise.resolve();
    },
    destroy(id) {
      entries.delete(`${model}:${id}`);
      return Promise.resolve();
    },
    revokeByGrantId(grantId) {
      for (const [key, entry] of entries) if (entry.payload.grantId === grantId) entries.delete(key);
      return Promise.resolve();
    },
  });
}
