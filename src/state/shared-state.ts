/**
 * State that every instance of the app must see, beside the sessions themselves: the encrypted
 * token records, refresh locks, the back-channel logout index (`sid` / `sub` → sessions) and the
 * `jti`s of logout tokens already used. In Redis when the sessions are (so several instances
 * agree), else in this process's memory.
 *
 * Every key carries the configured session prefix; every entry has a lifetime, so nothing here
 * outlives the sessions it serves.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import type { RedisClientType } from 'redis';
import { ParLoginError } from '../errors.js';

/** Shared state of one deployment. */
export interface SharedState {
  /** Which backend holds it. */
  readonly kind: 'redis' | 'memory';
  /** Read a value, or `undefined`. */
  get(key: string): Promise<string | undefined>;
  /** Write a value that lives `ttlSeconds`. */
  set(key: string, value: string, ttlSeconds: number): Promise<void>;
  /** Delete values. */
  delete(...keys: string[]): Promise<void>;
  /** Replace a value atomically, returning the one it replaced (or `undefined`): a single-use take. */
  swap(key: string, value: string, ttlSeconds: number): Promise<string | undefined>;
  /**
   * Take the lock `key` for at most `ttlMs`: a release function, or `undefined` while another holder
   * (this process or another instance) has it. Releasing never frees a lock someone else took since.
   */
  lock(key: string, ttlMs: number): Promise<(() => Promise<void>) | undefined>;
  /** Record `key` for `ttlSeconds`; `true` only the first time (replay detection). */
  firstUse(key: string, ttlSeconds: number): Promise<boolean>;
  /** Add members to the sets `keys`, each set living at least `ttlSeconds` from now. */
  addToSets(keys: readonly string[], member: string, ttlSeconds: number): Promise<void>;
  /** The members of the set `key`, removing the set. */
  takeSet(key: string): Promise<string[]>;
  /** Remove `member` from the sets `keys`. */
  removeFromSets(keys: readonly string[], member: string): Promise<void>;
}

function storeFailure(err: unknown): ParLoginError {
  return new ParLoginError('session_store_unavailable', 'The session store is not available.', {
    cause: err,
  });
}

// Compare-and-delete: release a lock only if it still holds our token.
const RELEASE =
  "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

/** Shared state in Redis (the client the session store uses), keys under `prefix`. */
export function redisSharedState(client: RedisClientType, prefix: string): SharedState {
  const k = (key: string): string => prefix + key;
  const run = async <T>(command: () => Promise<T>): Promise<T> => {
    try {
      return await command();
    } catch (err) {
      throw storeFailure(err);
    }
  };
  return {
    kind: 'redis',
    get: (key) => run(async () => (await client.get(k(key))) ?? undefined),
    set: (key, value, ttlSeconds) =>
      run(
        async () =>
          void (await client.set(k(key), value, {
            expiration: { type: 'EX', value: Math.max(1, Math.ceil(ttlSeconds)) },
          })),
      ),
    delete: (...keys) => run(async () => void (keys.length > 0 && (await client.del(keys.map(k))))),
    // SET … GET (Redis 6.2): two callbacks taking the same value cannot both get it.
    swap: (key, value, ttlSeconds) =>
      run(
        async () =>
          (await client.set(k(key), value, {
            expiration: { type: 'EX', value: Math.max(1, Math.ceil(ttlSeconds)) },
            GET: true,
          })) ?? undefined,
      ),
    lock: (key, ttlMs) =>
      run(async () => {
        const token = randomBytes(16).toString('base64url');
        const taken = await client.set(k(key), token, {
          condition: 'NX',
          expiration: { type: 'PX', value: Math.max(1, Math.ceil(ttlMs)) },
        });
        if (taken !== 'OK') return undefined;
        return async () => {
          try {
            await client.eval(RELEASE, { keys: [k(key)], arguments: [token] });
          } catch {
            // the lock expires by itself
          }
        };
      }),
    firstUse: (key, ttlSeconds) =>
      run(
        async () =>
          (await client.set(k(key), '1', {
            condition: 'NX',
            expiration: { type: 'EX', value: Math.max(1, Math.ceil(ttlSeconds)) },
          })) === 'OK',
      ),
    addToSets: (keys, member, ttlSeconds) =>
      run(async () => {
        const multi = client.multi();
        for (const key of keys) {
          multi.sAdd(k(key), member);
          // Extend, never shorten: the set serves its longest-living member.
          multi.expire(k(key), Math.max(1, Math.ceil(ttlSeconds)), 'GT');
          multi.expire(k(key), Math.max(1, Math.ceil(ttlSeconds)), 'NX');
        }
        await multi.exec();
      }),
    takeSet: (key) =>
      run(async () => {
        const [members] = (await client.multi().sMembers(k(key)).del(k(key)).exec()) as unknown as [
          string[],
          number,
        ];
        return members ?? [];
      }),
    removeFromSets: (keys, member) =>
      run(async () => {
        const multi = client.multi();
        for (const key of keys) multi.sRem(k(key), member);
        await multi.exec();
      }),
  };
}

/** Shared state in this process's memory: for one instance (or tests). Expired entries are swept. */
export function memorySharedState(
  sweepIntervalMs = 30_000,
): SharedState & { close(): void; readonly size: number } {
  const values = new Map<string, { value: string; expiresAt: number }>();
  const sets = new Map<string, { members: Set<string>; expiresAt: number }>();
  const live = <T extends { expiresAt: number }>(map: Map<string, T>, key: string): T | undefined => {
    const entry = map.get(key);
    if (entry !== undefined && entry.expiresAt <= Date.now()) {
      map.delete(key);
      return undefined;
    }
    return entry;
  };
  const sweeper = setInterval(() => {
    const now = Date.now();
    for (const [key, entry] of values) if (entry.expiresAt <= now) values.delete(key);
    for (const [key, entry] of sets) if (entry.expiresAt <= now) sets.delete(key);
  }, sweepIntervalMs).unref();
  const put = (key: string, value: string, ttlMs: number): void =>
    void values.set(key, { value, expiresAt: Date.now() + ttlMs });
  return {
    kind: 'memory',
    get size() {
      return values.size + sets.size;
    },
    close: () => clearInterval(sweeper),
    get: async (key) => live(values, key)?.value,
    set: async (key, value, ttlSeconds) => put(key, value, ttlSeconds * 1000),
    delete: async (...keys) => {
      for (const key of keys) values.delete(key);
    },
    swap: async (key, value, ttlSeconds) => {
      const previous = live(values, key)?.value;
      put(key, value, ttlSeconds * 1000);
      return previous;
    },
    lock: async (key, ttlMs) => {
      if (live(values, key) !== undefined) return undefined;
      const token = randomBytes(16).toString('base64url');
      put(key, token, ttlMs);
      return async () => {
        if (values.get(key)?.value === token) values.delete(key);
      };
    },
    firstUse: async (key, ttlSeconds) => {
      if (live(values, key) !== undefined) return false;
      put(key, '1', ttlSeconds * 1000);
      return true;
    },
    addToSets: async (keys, member, ttlSeconds) => {
      const expiresAt = Date.now() + ttlSeconds * 1000;
      for (const key of keys) {
        const entry = live(sets, key) ?? { members: new Set<string>(), expiresAt };
        entry.members.add(member);
        entry.expiresAt = Math.max(entry.expiresAt, expiresAt);
        sets.set(key, entry);
      }
    },
    takeSet: async (key) => {
      const entry = live(sets, key);
      sets.delete(key);
      return entry === undefined ? [] : [...entry.members];
    },
    removeFromSets: async (keys, member) => {
      for (const key of keys) live(sets, key)?.members.delete(member);
    },
  };
}
