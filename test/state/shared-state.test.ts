/**
 * The shared state's contract, run as the same cases against both backends: the memory one and the
 * Redis one against a real redis-server. Every operation of SharedState, the lifetimes (rounded up
 * to whole seconds, at least 1), a key holding a value or a set but not both, and races. Then what
 * only one backend has: Redis's prefix and failures, the memory backend's size and sweeper.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import {
  createClient,
  createCluster,
  createSentinel,
  type RedisClientType,
  type RedisClusterType,
  type RedisSentinelType,
} from 'redis';
import { memorySharedState, redisSharedState, type SharedState } from '../../src/state/shared-state.js';
import { startRedisCluster, type TestRedisCluster } from '../helpers/redis-cluster.js';
import { startRedisSentinel, type TestRedisSentinel } from '../helpers/redis-sentinel.js';
import { redisHandle, startRedis, type TestRedis } from '../helpers/redis.js';

type RedisClient = RedisClientType;

let redis: TestRedis;
let client: RedisClient;
let cluster: TestRedisCluster;
let clusterClient: RedisClusterType;
let sentinel: TestRedisSentinel;
let sentinelClient: RedisSentinelType;

/** A client of the test redis-server, connected; destroy it when done. */
async function connect(): Promise<RedisClient> {
  const connected = createClient({ url: redis.url });
  connected.on('error', () => {});
  await connected.connect();
  return connected;
}

beforeAll(async () => {
  [redis, cluster, sentinel] = await Promise.all([startRedis(), startRedisCluster(), startRedisSentinel()]);
  client = await connect();
  clusterClient = createCluster({ rootNodes: cluster.rootNodes });
  clusterClient.on('error', () => {});
  sentinelClient = createSentinel({ name: sentinel.name, sentinelRootNodes: sentinel.sentinels });
  sentinelClient.on('error', () => {});
  await Promise.all([clusterClient.connect(), sentinelClient.connect()]);
}, 60_000);
afterAll(async () => {
  client.destroy();
  clusterClient.destroy();
  await sentinelClient.destroy();
  await Promise.all([redis.close(), cluster.close(), sentinel.close()]);
});

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
/** Block the event loop for `ms` (a stalled process: no timer, so no lock renewal, runs meanwhile). */
const stall = (ms: number): void => {
  const until = Date.now() + ms;
  while (Date.now() < until);
};
const sorted = (members: string[]): string[] => [...members].sort();

let prefixes = 0;
/** A fresh prefix per test: no test sees another's keys. */
const freshPrefix = (): string => `shared-test-${(prefixes += 1)}:`;

const memories: Array<ReturnType<typeof memorySharedState>> = [];
afterEach(() => {
  for (const memory of memories.splice(0)) memory.close();
});

interface Backend {
  readonly kind: SharedState['kind'];
  readonly name: string;
  readonly open: () => SharedState;
}
const BACKENDS: Backend[] = [
  {
    kind: 'memory',
    name: 'memory',
    open: () => {
      const memory = memorySharedState();
      memories.push(memory);
      return memory;
    },
  },
  { kind: 'redis', name: 'Redis server', open: () => redisSharedState(redisHandle(client), freshPrefix()) },
  {
    kind: 'redis',
    name: 'Redis Cluster',
    open: () => redisSharedState(redisHandle(clusterClient), freshPrefix()),
  },
  {
    kind: 'redis',
    name: 'Redis Sentinel',
    open: () => redisSharedState(redisHandle(sentinelClient), freshPrefix()),
  },
];

const STORE_FAILURE = { name: 'ParLoginError', code: 'session_store_unavailable' };
const INVALID_TTL = { name: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' };
const HELD = { held: true };

describe.each(BACKENDS)('the $name shared state', ({ kind, open }) => {
  let state: SharedState;
  beforeEach(() => {
    state = open();
  });

  it('says which backend it is', () => {
    expect(state.kind).toBe(kind);
  });

  describe('get and set', () => {
    it('reads back what set wrote, undefined for a key never written, and set replaces', async () => {
      expect(await state.get('a')).toBeUndefined();
      await state.set('a', 'first', 60);
      await state.set('b', '', 60);
      await state.set('c', 'ünïcødé ✓ {"json":true}', 60);
      expect(await state.get('a')).toBe('first');
      expect(await state.get('b')).toBe('');
      expect(await state.get('c')).toBe('ünïcødé ✓ {"json":true}');
      await state.set('a', 'second', 60);
      expect(await state.get('a')).toBe('second');
      expect(await state.get('A')).toBeUndefined();
    });
  });

  describe('delete', () => {
    it('deletes values and sets, several at once, ignoring missing keys', async () => {
      await state.set('v1', 'x', 60);
      await state.set('v2', 'y', 60);
      await state.addToSets(['s1', 's2'], 'm', 60);
      await state.delete('v1', 's1', 'missing');
      expect(await state.get('v1')).toBeUndefined();
      expect(await state.get('v2')).toBe('y');
      expect(await state.takeSet('s1')).toEqual([]);
      expect(await state.takeSet('s2')).toEqual(['m']);
      await expect(state.delete()).resolves.toBeUndefined();
      expect(await state.get('v2')).toBe('y');
    });

    it('deletes a set for good: adding to it again starts an empty set', async () => {
      await state.addToSets(['s'], 'old', 60);
      await state.delete('s');
      await state.addToSets(['s'], 'new', 60);
      expect(await state.takeSet('s')).toEqual(['new']);
    });

    it('frees a lock and forgets a first use', async () => {
      expect(await state.lock('l', 60_000)).toMatchObject(HELD);
      expect(await state.firstUse('f', 60)).toBe(true);
      await state.delete('l', 'f');
      expect(await state.lock('l', 60_000)).toMatchObject(HELD);
      expect(await state.firstUse('f', 60)).toBe(true);
    });
  });

  describe('swap', () => {
    it('stores the new value and returns the one it replaced, or undefined', async () => {
      expect(await state.swap('k', 'one', 60)).toBeUndefined();
      expect(await state.get('k')).toBe('one');
      expect(await state.swap('k', 'two', 60)).toBe('one');
      expect(await state.swap('k', 'two', 60)).toBe('two');
      expect(await state.get('k')).toBe('two');
    });

    it('hands the value to exactly one of racing swaps', async () => {
      await state.set('k', 'login', 60);
      const taken = await Promise.all(Array.from({ length: 8 }, () => state.swap('k', 'used', 60)));
      expect(taken.filter((value) => value === 'login')).toHaveLength(1);
      expect(taken.filter((value) => value === 'used')).toHaveLength(7);
      expect(await state.get('k')).toBe('used');
    });
  });

  describe('lock', () => {
    it('has one holder at a time; releasing frees it, and releasing twice is harmless', async () => {
      const first = await state.lock('l', 60_000);
      expect(first).toMatchObject(HELD);
      expect(await state.lock('l', 60_000)).toBeUndefined();
      expect(await state.lock('other', 60_000)).toMatchObject(HELD);
      await first!.release();
      expect(first!.held).toBe(false);
      const next = await state.lock('l', 60_000);
      expect(next).toMatchObject(HELD);
      await first!.release(); // stale: must not free the next holder's lock
      expect(await first!.renew()).toBe(false);
      expect(await state.lock('l', 60_000)).toBeUndefined();
      await next!.release();
      await next!.release();
      expect(await state.lock('l', 60_000)).toMatchObject(HELD);
    });

    it('gives the lock to exactly one of racing takers', async () => {
      const locks = await Promise.all(Array.from({ length: 8 }, () => state.lock('l', 60_000)));
      expect(locks.filter((lock) => lock !== undefined)).toHaveLength(1);
    });

    it('cannot take a key that holds a value', async () => {
      await state.set('v', 'x', 60);
      expect(await state.lock('v', 60_000)).toBeUndefined();
      expect(await state.get('v')).toBe('x');
    });

    it('renews itself while held, outliving ttlMs many times over, until released', async () => {
      const held = await state.lock('l', 300);
      await sleep(1_100); // over three lifetimes
      expect(held!.held).toBe(true);
      expect(await state.lock('l', 60_000)).toBeUndefined();
      expect(await held!.renew()).toBe(true);
      await held!.release();
      expect(held!.held).toBe(false);
      expect(await state.lock('l', 60_000)).toMatchObject(HELD);
    });

    it('lapses after ttlMs when its holder stalls; that holder then renews and frees nothing', async () => {
      const first = await state.lock('l', 300.4);
      expect(await state.lock('l', 60_000)).toBeUndefined();
      stall(450); // no renewal can run
      const second = await state.lock('l', 60_000);
      expect(second).toMatchObject(HELD);
      expect(await first!.renew()).toBe(false);
      expect(first!.held).toBe(false);
      await first!.release();
      expect(await state.lock('l', 60_000)).toBeUndefined();
      expect(second!.held).toBe(true);
      await second!.release();
      expect(await state.lock('l', 60_000)).toMatchObject(HELD);
    });

    it('finds a lock removed under it lost on its next automatic renewal', async () => {
      const first = await state.lock('l', 300);
      await state.delete('l');
      const second = await state.lock('l', 60_000);
      await sleep(250); // past a renewal (every 100 ms)
      expect(first!.held).toBe(false);
      expect(second!.held).toBe(true);
      await first!.release();
      expect(await state.lock('l', 60_000)).toBeUndefined();
    });
  });

  describe('compareAndSet', () => {
    it('replaces only the value it expects, and never a missing key', async () => {
      await state.set('k', 'one', 60);
      expect(await state.compareAndSet('k', 'other', 'two', 60)).toBe(false);
      expect(await state.get('k')).toBe('one');
      expect(await state.compareAndSet('k', 'one', 'two', 60)).toBe(true);
      expect(await state.get('k')).toBe('two');
      expect(await state.compareAndSet('k', 'one', 'three', 60)).toBe(false);
      expect(await state.get('k')).toBe('two');
      expect(await state.compareAndSet('missing', '', 'x', 60)).toBe(false);
      expect(await state.get('missing')).toBeUndefined();
    });

    it('lets exactly one of racing writers that expect the same value replace it', async () => {
      await state.set('k', 'seen', 60);
      const writes = await Promise.all(
        Array.from({ length: 8 }, (_, index) => state.compareAndSet('k', 'seen', `writer-${index}`, 60)),
      );
      expect(writes.filter(Boolean)).toHaveLength(1);
      expect(await state.get('k')).toBe(`writer-${writes.indexOf(true)}`);
    });

    it('gives the new value ttlSeconds, or the remaining lifetime when none is given', async () => {
      await state.set('kept', 'a', 1);
      await state.set('renewed', 'a', 1);
      expect(await state.compareAndSet('kept', 'a', 'b')).toBe(true);
      expect(await state.compareAndSet('renewed', 'a', 'b', 3)).toBe(true);
      await sleep(1_200);
      expect(await state.get('kept')).toBeUndefined();
      expect(await state.get('renewed')).toBe('b');
    });
  });

  describe('firstUse', () => {
    it('is true once per key, then false', async () => {
      expect(await state.firstUse('jti-1', 60)).toBe(true);
      expect(await state.firstUse('jti-1', 60)).toBe(false);
      expect(await state.firstUse('jti-2', 60)).toBe(true);
      expect(await state.firstUse('jti-1', 60)).toBe(false);
    });

    it('is true for exactly one of racing uses', async () => {
      const uses = await Promise.all(Array.from({ length: 8 }, () => state.firstUse('jti', 60)));
      expect(uses.filter(Boolean)).toHaveLength(1);
    });

    it('finds a key that holds a value used', async () => {
      await state.set('v', 'x', 60);
      expect(await state.firstUse('v', 60)).toBe(false);
      expect(await state.get('v')).toBe('x');
    });
  });

  describe('sets', () => {
    it('adds a member to every set named, once; takeSet returns the members and removes the set', async () => {
      await state.addToSets(['sid', 'sub'], 'session-1 ref-1', 60);
      await state.addToSets(['sub'], 'session-2 ref-2', 60);
      await state.addToSets(['sub'], 'session-2 ref-2', 60);
      expect(sorted(await state.takeSet('sub'))).toEqual(['session-1 ref-1', 'session-2 ref-2']);
      expect(await state.takeSet('sub')).toEqual([]);
      expect(await state.takeSet('sid')).toEqual(['session-1 ref-1']);
      expect(await state.takeSet('never')).toEqual([]);
    });

    it('removes a member from the sets named only', async () => {
      await state.addToSets(['a', 'b', 'c'], 'm1', 60);
      await state.addToSets(['a', 'b', 'c'], 'm2', 60);
      await state.removeFromSets(['a', 'b', 'missing'], 'm1');
      await state.removeFromSets(['a'], 'not-a-member');
      expect(await state.takeSet('a')).toEqual(['m2']);
      expect(await state.takeSet('b')).toEqual(['m2']);
      expect(sorted(await state.takeSet('c'))).toEqual(['m1', 'm2']);
    });

    it('does nothing for an empty list of sets', async () => {
      await expect(state.addToSets([], 'm', 60)).resolves.toBeUndefined();
      await expect(state.removeFromSets([], 'm')).resolves.toBeUndefined();
    });

    it('hands each member to exactly one of racing takes', async () => {
      await state.addToSets(['s'], 'a', 60);
      await state.addToSets(['s'], 'b', 60);
      const takes = await Promise.all(Array.from({ length: 6 }, () => state.takeSet('s')));
      expect(sorted(takes.flat())).toEqual(['a', 'b']);
      expect(takes.filter((members) => members.length > 0)).toHaveLength(1);
    });
  });

  describe('lifetimes', () => {
    it('keeps values for ttlSeconds rounded up to whole seconds, at least 1; set and swap renew it', async () => {
      await state.set('fraction', 'x', 0.2);
      await state.set('zero', 'x', 0);
      await state.set('negative', 'x', -3);
      await state.set('longer', 'x', 3);
      await state.set('replaced', 'long', 100);
      await state.set('replaced', 'short', 1);
      await state.set('swapped', 'long', 100);
      expect(await state.swap('swapped', 'short', 0.3)).toBe('long');
      expect(await state.firstUse('once', 0.5)).toBe(true);
      await sleep(400); // past 0.2 s and 0.3 s, well short of 1 s
      for (const key of ['fraction', 'zero', 'negative', 'longer', 'swapped']) {
        expect([key, await state.get(key)]).toEqual([key, key === 'swapped' ? 'short' : 'x']);
      }
      expect(await state.get('replaced')).toBe('short');
      expect(await state.firstUse('once', 0.5)).toBe(false);
      await sleep(800); // past 1 s, short of 3 s
      for (const key of ['fraction', 'zero', 'negative', 'replaced', 'swapped']) {
        expect([key, await state.get(key)]).toEqual([key, undefined]);
      }
      expect(await state.get('longer')).toBe('x');
      expect(await state.firstUse('once', 60)).toBe(true);
    });

    it('keeps a set as long as its longest-lived member asked; an emptied set is gone', async () => {
      await state.addToSets(['extended'], 'a', 1);
      await state.addToSets(['extended'], 'b', 3);
      await state.addToSets(['kept'], 'a', 3);
      await state.addToSets(['kept'], 'b', 1);
      await state.addToSets(['fraction-early', 'fraction-late'], 'a', 0.2);
      await state.addToSets(['emptied'], 'a', 100);
      await state.removeFromSets(['emptied'], 'a');
      await state.addToSets(['emptied'], 'b', 1); // a new set: its own lifetime, not the old one's
      await sleep(400);
      expect(await state.takeSet('fraction-early')).toEqual(['a']);
      await sleep(800);
      expect(sorted(await state.takeSet('extended'))).toEqual(['a', 'b']);
      expect(sorted(await state.takeSet('kept'))).toEqual(['a', 'b']);
      expect(await state.takeSet('fraction-late')).toEqual([]);
      expect(await state.takeSet('emptied')).toEqual([]);
    });

    it.each([NaN, Infinity, -Infinity])('refuses a lifetime of %s, storing nothing', async (ttl) => {
      await expect(state.set('v', 'x', ttl)).rejects.toMatchObject(INVALID_TTL);
      await expect(state.swap('v', 'x', ttl)).rejects.toMatchObject(INVALID_TTL);
      await expect(state.firstUse('f', ttl)).rejects.toMatchObject(INVALID_TTL);
      await expect(state.addToSets(['s'], 'm', ttl)).rejects.toMatchObject(INVALID_TTL);
      await expect(state.lock('l', ttl)).rejects.toMatchObject(INVALID_TTL);
      await state.set('c', 'x', 60);
      await expect(state.compareAndSet('c', 'x', 'y', ttl)).rejects.toMatchObject(INVALID_TTL);
      expect(await state.get('c')).toBe('x');
      expect(await state.get('v')).toBeUndefined();
      expect(await state.takeSet('s')).toEqual([]);
      expect(await state.firstUse('f', 60)).toBe(true);
      expect(await state.lock('l', 60_000)).toMatchObject(HELD);
    });
  });

  describe('a key holds a value or a set, not both', () => {
    it('fails an operation of the other kind with session_store_unavailable; set replaces a set', async () => {
      await state.set('v', 'x', 60);
      await state.addToSets(['s'], 'm', 60);
      await expect(state.get('s')).rejects.toMatchObject(STORE_FAILURE);
      await expect(state.swap('s', 'y', 60)).rejects.toMatchObject(STORE_FAILURE);
      await expect(state.compareAndSet('s', 'm', 'y', 60)).rejects.toMatchObject(STORE_FAILURE);
      await expect(state.removeFromSets(['v'], 'x')).rejects.toMatchObject(STORE_FAILURE);
      await expect(state.addToSets(['v'], 'm', 60)).rejects.toMatchObject(STORE_FAILURE);
      expect(await state.get('v')).toBe('x');
      expect(await state.lock('s', 60_000)).toBeUndefined();
      expect(await state.firstUse('s', 60)).toBe(false);
      await expect(state.takeSet('v')).rejects.toMatchObject(STORE_FAILURE);
      await state.set('s', 'y', 60);
      expect(await state.get('s')).toBe('y');
      await expect(state.takeSet('s')).rejects.toMatchObject(STORE_FAILURE);
    });
  });
});

describe('redisSharedState only', () => {
  it('keeps every key under its prefix, each with an expiry', async () => {
    const prefix = freshPrefix();
    const state = redisSharedState(redisHandle(client), prefix);
    await state.set('v', 'x', 60);
    await state.swap('w', 'x', 60);
    await state.set('c', 'x', 60);
    await state.compareAndSet('c', 'x', 'y', 60);
    await state.lock('l', 60_000);
    await state.firstUse('f', 60);
    await state.addToSets(['s1', 's2'], 'm', 60);
    const keys = await redis.inspect.keys(`${prefix}*`);
    expect(keys.sort()).toEqual(['c', 'f', 'l', 's1', 's2', 'v', 'w'].map((key) => prefix + key));
    for (const key of keys) {
      const ttl = await redis.inspect.pTTL(key);
      expect([key, ttl > 0 && ttl <= 60_000]).toEqual([key, true]);
    }
    expect(await redis.inspect.exists(['v', 'w', 'l', 'f', 's1', 's2'])).toBe(0);
  });

  it('renews a lock to ttlMs from now, never longer, and keeps a lifetime compareAndSet is not given', async () => {
    const prefix = freshPrefix();
    const state = redisSharedState(redisHandle(client), prefix);
    const held = await state.lock('l', 600);
    await sleep(700); // past its first lifetime: renewed at least twice
    const lockTtlMs = await redis.inspect.pTTL(`${prefix}l`);
    expect(lockTtlMs > 0 && lockTtlMs <= 600).toBe(true);
    await held!.release();
    await state.set('c', 'x', 60);
    await state.compareAndSet('c', 'x', 'y');
    const kept = await redis.inspect.pTTL(`${prefix}c`);
    expect(kept > 50_000 && kept <= 60_000).toBe(true);
  });

  it('is shared by instances with the same prefix, and only by them', async () => {
    const prefix = freshPrefix();
    const one = redisSharedState(redisHandle(client), prefix);
    const otherClient = await connect();
    try {
      const other = redisSharedState(redisHandle(otherClient), prefix);
      const stranger = redisSharedState(redisHandle(client), freshPrefix());
      await one.set('v', 'x', 60);
      await one.addToSets(['s'], 'm', 60);
      expect(await other.get('v')).toBe('x');
      expect(await stranger.get('v')).toBeUndefined();
      expect(await stranger.takeSet('s')).toEqual([]);
      expect(await other.takeSet('s')).toEqual(['m']);
      expect(await one.takeSet('s')).toEqual([]);
    } finally {
      otherClient.destroy();
    }
  });

  it('reports a Redis it cannot reach as session_store_unavailable; a lock release never throws', async () => {
    const lost = await connect();
    const state = redisSharedState(redisHandle(lost), freshPrefix());
    const held = await state.lock('l', 60_000);
    lost.destroy();
    const read = { ...STORE_FAILURE, message: 'The session store failed to read the shared login state.' };
    const write = { ...STORE_FAILURE, message: 'The session store failed to write the shared login state.' };
    await expect(state.get('v')).rejects.toMatchObject(read);
    await expect(state.set('v', 'x', 60)).rejects.toMatchObject(write);
    await expect(state.delete('v')).rejects.toMatchObject(write);
    await expect(state.swap('v', 'x', 60)).rejects.toMatchObject(write);
    await expect(state.lock('m', 60_000)).rejects.toMatchObject(write);
    await expect(state.firstUse('f', 60)).rejects.toMatchObject(write);
    await expect(state.addToSets(['s'], 'm', 60)).rejects.toMatchObject(write);
    await expect(state.takeSet('s')).rejects.toMatchObject(write);
    await expect(state.removeFromSets(['s'], 'm')).rejects.toMatchObject(write);
    await expect(state.get('v')).rejects.toHaveProperty('cause');
    await expect(state.compareAndSet('v', 'x', 'y', 60)).rejects.toMatchObject(write);
    await expect(held!.renew()).rejects.toMatchObject(write);
    expect(held!.held).toBe(true); // unknown, not lost: the automatic renewal tries again
    await expect(held!.release()).resolves.toBeUndefined();
  });
});

describe('memorySharedState only', () => {
  it('counts its keys in size, sweeps expired ones unread, and stops sweeping once closed', async () => {
    const open = memorySharedState(50);
    const closed = memorySharedState(50);
    memories.push(open, closed);
    closed.close();
    for (const state of [open, closed]) {
      await state.set('short', 'x', 1);
      await state.addToSets(['set'], 'm', 1);
      await state.set('long', 'x', 60);
    }
    expect([open.size, closed.size]).toEqual([3, 3]);
    await sleep(1_200);
    expect([open.size, closed.size]).toEqual([1, 3]);
    expect(await closed.get('short')).toBeUndefined(); // expired all the same
  });
});
