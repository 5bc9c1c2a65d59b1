/**
 * State that every instance of the app must see, beside the sessions themselves: the encrypted
 * token records, refresh locks, the back-channel logout index (`sid` / `sub` → sessions) and the
 * `jti`s of logout tokens already used. In Redis when the sessions are (so several instances
 * agree), else in this process's memory.
 *
 * Every key carries the configured state prefix; every entry has a lifetime, so nothing here
 * outlives the sessions it serves.
 *
 * Both backends behave alike (test/state/shared-state.test.ts runs the same cases on both), as Redis
 * does: a key holds a value or a set, never both, and an operation of the other kind on it fails
 * (`session_store_unavailable`), except `set`, which replaces whatever the key held, and `lock` and
 * `firstUse`, which find the key taken; `delete` removes either; a set whose last member is removed
 * is gone. Lifetimes are rounded up to whole seconds (milliseconds for locks), at least 1: a lifetime
 * of 0.2 s or 0 lives 1 s, never less than asked. A lifetime that is not a finite number is a
 * programming error (a `TypeError`, code `ERR_INVALID_ARG_VALUE`).
 *
 * Every command and every transaction touches one key; an operation on several keys sends one
 * per key. None needs its keys in one hash slot, so the Redis backend runs on a Redis Cluster as on
 * one server. Conditional writes ({@link SharedState.compareAndSet}, lock renewal and release) are
 * single-key scripts. The keys live under their own prefix (`statePrefix`), apart from the
 * sessions, so that the session store's scans see sessions only.
 *
 * @module
 */
import { randomToken } from '../crypto/random.js';
import type { RedisHandle } from './redis.js';
import { flattened } from './flat-string.js';
import { invalidArgument, storeUnavailable } from '../errors.js';

/** Shared state of one deployment. */
export interface SharedState {
  /** Which backend holds it. */
  readonly kind: 'redis' | 'memory';
  /** Read a value, or `undefined`. */
  get(key: string): Promise<string | undefined>;
  /** Write a value that lives `ttlSeconds` (rounded up to whole seconds, at least 1), replacing what `key` held. */
  set(key: string, value: string, ttlSeconds: number): Promise<void>;
  /** Delete values and sets. */
  delete(...keys: string[]): Promise<void>;
  /** Replace a value atomically, returning the one it replaced (or `undefined`): a single-use take. */
  swap(key: string, value: string, ttlSeconds: number): Promise<string | undefined>;
  /**
   * Replace the value of `key` with `value` only if it still is `expected` (compare-and-set, atomic):
   * `true` when replaced; `false` when the key holds something else or nothing. The new value lives
   * `ttlSeconds` (rounded up as for `set`), or keeps the key's remaining lifetime when omitted.
   */
  compareAndSet(key: string, expected: string, value: string, ttlSeconds?: number): Promise<boolean>;
  /**
   * Take the lock `key` for `ttlMs`: a {@link HeldLock} that renews itself every `ttlMs / 3` until
   * released, or `undefined` while another holder (this process or another instance) has it.
   */
  lock(key: string, ttlMs: number): Promise<HeldLock | undefined>;
  /** Record `key` for `ttlSeconds`; `true` only the first time (replay detection). */
  firstUse(key: string, ttlSeconds: number): Promise<boolean>;
  /** Add members to the sets `keys`, each set living at least `ttlSeconds` from now. */
  addToSets(keys: readonly string[], member: string, ttlSeconds: number): Promise<void>;
  /** The members of the set `key`, removing the set. */
  takeSet(key: string): Promise<string[]>;
  /** Remove `member` from the sets `keys`. */
  removeFromSets(keys: readonly string[], member: string): Promise<void>;
}

/**
 * A lock taken with {@link SharedState.lock}. It carries a random token; only the holder of that
 * token can renew or release it, so a holder whose lock lapsed (a stalled process, a slow store) and
 * was taken by another can neither extend nor free the other's lock.
 */
export interface HeldLock {
  /** `false` once a renewal found the lock no longer ours (it lapsed; another may hold it now), or after release. */
  readonly held: boolean;
  /**
   * Extend the lock to `ttlMs` from now if it still holds our token (the automatic renewal calls
   * this): `false`, and `held` turns false, when it does not.
   * @throws {ParLoginError} `session_store_unavailable` when the store fails.
   */
  renew(): Promise<boolean>;
  /** Stop renewing and free the lock if it is still ours. Never throws: a lock left behind lapses. */
  release(): Promise<void>;
}

/** The three operations of a lock on one backend, for one key and token. */
interface LockOperations {
  /** Extend to `ttlMs` from now if the key holds the token. */
  extend(ttlMs: number): Promise<boolean>;
  /** Delete the key if it holds the token. */
  free(): Promise<void>;
}

/**
 * A taken lock that renews itself every `ttlMs / 3` (so two renewals in a row may fail or come late
 * before it lapses) until released or found lost. A renewal the store fails is retried on the next
 * tick; the timer never keeps the process alive.
 */
function heldLock(ttlMs: number, operations: LockOperations): HeldLock {
  let held = true;
  let renewing = false;
  const lock: HeldLock = {
    get held() {
      return held;
    },
    async renew() {
      if (!held) return false;
      if (!(await operations.extend(ttlMs))) {
        held = false;
        clearInterval(timer);
      }
      return held;
    },
    async release() {
      clearInterval(timer);
      if (!held) return;
      held = false;
      try {
        await operations.free();
      } catch {
        // the lock lapses by itself
      }
    },
  };
  const renewNow = (): void => {
    if (renewing) return; // the previous renewal still waits for the store
    renewing = true;
    lock
      .renew()
      .catch(() => undefined) // the store failed: try again on the next tick
      .finally(() => (renewing = false));
  };
  const timer = setInterval(renewNow, Math.max(1, Math.floor(ttlMs / 3))).unref();
  return lock;
}

/** A lifetime as Redis takes it: a whole number (of seconds for `EX`, of ms for `PX`), rounded up, at least 1. */
function whole(ttl: number, name: 'ttlSeconds' | 'ttlMs'): number {
  if (!Number.isFinite(ttl))
    throw invalidArgument(`SharedState: ${name} must be a finite number, not ${ttl}`);
  return Math.max(1, Math.ceil(ttl));
}

// Single-key scripts (Redis Cluster safe). Compare-and-delete: free a lock only if it holds our token.
const RELEASE =
  "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";
// Compare-and-extend: renew a lock only if it holds our token.
const RENEW =
  "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end";
// Compare-and-set: ARGV[1] expected, ARGV[2] new value, ARGV[3] seconds ('' keeps the lifetime).
// GET on a set fails with WRONGTYPE, as the memory backend's does.
const COMPARE_AND_SET = `if redis.call('get', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[3] == '' then redis.call('set', KEYS[1], ARGV[2], 'KEEPTTL')
else redis.call('set', KEYS[1], ARGV[2], 'EX', ARGV[3]) end
return 1`;

/**
 * How the Redis backend sends a command: its key under `prefix`, under the handle's deadline, a
 * failure reported as `session_store_unavailable`.
 */
function redisRunner(redis: RedisHandle, prefix: string) {
  const k = (key: string): string => prefix + key;
  const run = async <T>(operation: 'read' | 'write', command: () => Promise<T>): Promise<T> => {
    try {
      return await redis.run(command);
    } catch (err) {
      throw storeUnavailable(operation, err);
    }
  };
  // A script over one key only: Redis Cluster runs a script only if all its keys share a hash slot.
  const script = (source: string, key: string, args: string[]): Promise<unknown> =>
    run('write', () => redis.commands.eval(source, { keys: [k(key)], arguments: args }));
  return { k, run, script };
}

/**
 * Shared state in Redis (the one the session store uses: a server, a Cluster or a Sentinel group),
 * keys under `prefix`, every operation under the handle's deadline.
 */
export function redisSharedState(redis: RedisHandle, prefix: string): SharedState {
  const client = redis.commands;
  const { k, run, script } = redisRunner(redis, prefix);
  const ex = (ttlSeconds: number) => ({ type: 'EX', value: whole(ttlSeconds, 'ttlSeconds') }) as const;
  return {
    kind: 'redis',
    get: (key) => run('read', async () => (await client.get(k(key))) ?? undefined),
    set: async (key, value, ttlSeconds) => {
      const expiration = ex(ttlSeconds);
      await run('write', () => client.set(k(key), value, { expiration }));
    },
    // One DEL per key: a many-key DEL fails on a Cluster when the keys are in different hash slots.
    delete: async (...keys) => {
      await Promise.all(keys.map((key) => run('write', () => client.del(k(key)))));
    },
    // SET … GET (Redis 6.2): two callbacks taking the same value cannot both get it.
    swap: async (key, value, ttlSeconds) => {
      const expiration = ex(ttlSeconds);
      return run(
        'write',
        async () => (await client.set(k(key), value, { expiration, GET: true })) ?? undefined,
      );
    },
    compareAndSet: async (key, expected, value, ttlSeconds) => {
      const seconds = ttlSeconds === undefined ? '' : String(whole(ttlSeconds, 'ttlSeconds'));
      return (await script(COMPARE_AND_SET, key, [expected, value, seconds])) === 1;
    },
    lock: async (key, ttlMs) => {
      const lifetimeMs = whole(ttlMs, 'ttlMs');
      const expiration = { type: 'PX', value: lifetimeMs } as const;
      const token = randomToken(16);
      const taken = await run('write', () => client.set(k(key), token, { condition: 'NX', expiration }));
      if (taken !== 'OK') return undefined;
      return heldLock(lifetimeMs, {
        extend: async (ms) => (await script(RENEW, key, [token, String(ms)])) === 1,
        free: async () => void (await script(RELEASE, key, [token])),
      });
    },
    firstUse: async (key, ttlSeconds) => {
      const expiration = ex(ttlSeconds);
      return (await run('write', () => client.set(k(key), '1', { condition: 'NX', expiration }))) === 'OK';
    },
    // One transaction per set (a Cluster refuses a MULTI over keys in different hash slots): each
    // set gains its member and its lifetime atomically; the sets need no atomicity between them
    // (a logout token names one of them, and a member found in only one still ends its session).
    addToSets: async (keys, member, ttlSeconds) => {
      const seconds = whole(ttlSeconds, 'ttlSeconds');
      await Promise.all(
        keys.map((key) =>
          run('write', () =>
            client
              .multi()
              .sAdd(k(key), member)
              // Extend, never shorten: the set serves its longest-living member. GT leaves a key
              // without expiry alone (a new set), which NX then sets.
              .expire(k(key), seconds, 'GT')
              .expire(k(key), seconds, 'NX')
              .exec(),
          ),
        ),
      );
    },
    takeSet: (key) =>
      run('write', async () => {
        const [members] = (await client.multi().sMembers(k(key)).del(k(key)).exec()) as unknown as [
          string[],
          number,
        ];
        return members ?? [];
      }),
    // One SREM per set, for the same reason as addToSets.
    removeFromSets: async (keys, member) => {
      await Promise.all(keys.map((key) => run('write', () => client.sRem(k(key), member))));
    },
  };
}

/**
 * What one key holds in memory: a value or a set, as a Redis key does. Classes rather than tagged
 * objects: one field fewer per entry, and the kind is the class (see {@link memorySharedState}).
 */
class ValueEntry {
  constructor(
    readonly value: string,
    readonly expiresAt: number,
  ) {}
}
class SetEntry {
  constructor(
    readonly members: Set<string>,
    public expiresAt: number,
  ) {}
}
type MemoryEntry = ValueEntry | SetEntry;
type MemoryEntries = Map<string, MemoryEntry>;

/** Redis's answer to an operation on a key of the other kind, as the Redis backend reports it. */
const wrongType = (operation: 'read' | 'write') =>
  storeUnavailable(operation, new Error('WRONGTYPE Operation against a key holding the wrong kind of value'));

/** The entry of `key` unless it expired (then it is dropped). */
function live(entries: MemoryEntries, key: string): MemoryEntry | undefined {
  const entry = entries.get(key);
  if (entry !== undefined && entry.expiresAt <= Date.now()) {
    entries.delete(key);
    return undefined;
  }
  return entry;
}

/** The value of `key`, or `undefined`; a set there is the wrong kind. */
function valueAt(entries: MemoryEntries, key: string, operation: 'read' | 'write'): string | undefined {
  const entry = live(entries, key);
  if (entry instanceof SetEntry) throw wrongType(operation);
  return entry?.value;
}

/** The set of `key`, or `undefined`; a value there is the wrong kind. */
function setAt(entries: MemoryEntries, key: string): SetEntry | undefined {
  const entry = live(entries, key);
  if (entry instanceof ValueEntry) throw wrongType('write');
  return entry;
}

/** Keep `value` under `key` for `ttlMs`, both flat (flat-string.ts): entries may live for hours. */
function put(entries: MemoryEntries, key: string, value: string, ttlMs: number): void {
  entries.set(flattened(key), new ValueEntry(flattened(value), Date.now() + ttlMs));
}

/** A promise of `compute()`'s result, rejected with what it throws (as an `async` function's would be). */
const settle = <T>(compute: () => T): Promise<T> => new Promise<T>((resolve) => resolve(compute()));

/** Take the lock `key` in memory, as the Redis backend does (a random token; only its holder renews or frees it). */
function memoryLock(entries: MemoryEntries, key: string, lifetimeMs: number): HeldLock | undefined {
  if (live(entries, key) !== undefined) return undefined;
  const token = randomToken(16);
  put(entries, key, token, lifetimeMs);
  const ours = (): boolean => {
    const entry = live(entries, key);
    return entry instanceof ValueEntry && entry.value === token;
  };
  return heldLock(lifetimeMs, {
    extend: (ms) =>
      settle(() => {
        if (ours()) put(entries, key, token, ms);
        return ours();
      }),
    free: () =>
      settle(() => {
        if (ours()) entries.delete(key);
      }),
  });
}

/** Shared state in this process's memory: for one instance (or tests). Expired entries are swept. */
export function memorySharedState(
  sweepIntervalMs = 30_000,
): SharedState & { close(): void; readonly size: number } {
  const entries: MemoryEntries = new Map();
  const sweeper = setInterval(() => {
    const now = Date.now();
    for (const [key, entry] of entries) if (entry.expiresAt <= now) entries.delete(key);
  }, sweepIntervalMs).unref();
  const seconds = (ttlSeconds: number): number => whole(ttlSeconds, 'ttlSeconds') * 1000;
  return {
    kind: 'memory',
    get size() {
      return entries.size;
    },
    close: () => clearInterval(sweeper),
    get: (key) => settle(() => valueAt(entries, key, 'read')),
    set: (key, value, ttlSeconds) => settle(() => put(entries, key, value, seconds(ttlSeconds))),
    delete: (...keys) => settle(() => keys.forEach((key) => entries.delete(key))),
    swap: (key, value, ttlSeconds) =>
      settle(() => {
        const ttlMs = seconds(ttlSeconds);
        const previous = valueAt(entries, key, 'write');
        put(entries, key, value, ttlMs);
        return previous;
      }),
    compareAndSet: (key, expected, value, ttlSeconds) =>
      settle(() => {
        const ttlMs = ttlSeconds === undefined ? undefined : seconds(ttlSeconds);
        if (valueAt(entries, key, 'write') !== expected) return false; // also when missing or expired
        put(entries, key, value, ttlMs ?? entries.get(key)!.expiresAt - Date.now());
        return true;
      }),
    lock: (key, ttlMs) => settle(() => memoryLock(entries, key, whole(ttlMs, 'ttlMs'))),
    firstUse: (key, ttlSeconds) =>
      settle(() => {
        const ttlMs = seconds(ttlSeconds);
        if (live(entries, key) !== undefined) return false;
        put(entries, key, '1', ttlMs);
        return true;
      }),
    addToSets: (keys, member, ttlSeconds) =>
      settle(() => {
        const expiresAt = Date.now() + seconds(ttlSeconds);
        const found = keys.map((key) => setAt(entries, key)); // all of the right kind before any change
        for (const [index, key] of keys.entries()) {
          const entry = found[index] ?? new SetEntry(new Set<string>(), expiresAt);
          entry.members.add(flattened(member));
          entry.expiresAt = Math.max(entry.expiresAt, expiresAt);
          entries.set(flattened(key), entry);
        }
      }),
    takeSet: (key) =>
      settle(() => {
        const entry = setAt(entries, key);
        entries.delete(key);
        return entry === undefined ? [] : [...entry.members];
      }),
    removeFromSets: (keys, member) =>
      settle(() => {
        for (const key of keys) {
          const entry = setAt(entries, key);
          entry?.members.delete(member);
          if (entry?.members.size === 0) entries.delete(key); // as Redis drops an empty set
        }
      }),
  };
}
