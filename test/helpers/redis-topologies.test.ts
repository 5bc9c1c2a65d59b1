/**
 * The Redis Cluster and Sentinel test helpers start topologies that node-redis clients can use and
 * that really fail over: a killed master's data and slots (or role) move to its replica and the
 * client carries on against the new master.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { createCluster, createSentinel } from 'redis';
import { startRedisCluster, type TestRedisCluster } from './redis-cluster.js';
import { startRedisSentinel, type TestRedisSentinel } from './redis-sentinel.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Retry `attempt` (each try cut off after 1 s) until it succeeds; rethrow its error after `ms`. */
async function eventually<T>(ms: number, attempt: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const pending = attempt();
    pending.catch(() => {});
    let timer: NodeJS.Timeout | undefined;
    const cutOff = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error('attempt timed out after 1 s')), 1000);
    });
    try {
      return await Promise.race([pending, cutOff]);
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(200);
    } finally {
      clearTimeout(timer);
    }
  }
}

let cleanup: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

describe('startRedisCluster', () => {
  it('serves a cluster client, and after its master is killed a replica serves the key', async () => {
    const redis: TestRedisCluster = await startRedisCluster();
    cleanup.push(() => redis.close());
    expect(redis.nodes).toHaveLength(6);
    expect(await redis.masters()).toHaveLength(3);
    // Refresh the topology 500 ms into a node's reconnection attempts (and then every 500 ms), not 5 s.
    const cluster = createCluster({
      rootNodes: redis.rootNodes,
      topologyRefreshOnReconnectionAttemptStrategy: 500,
    });
    cluster.on('error', () => {});
    await cluster.connect();
    cleanup.push(() => cluster.destroy());

    const keys = Array.from({ length: 12 }, (_, i) => `key-${i}`);
    const owners = new Set(await Promise.all(keys.map(async (key) => (await redis.masterFor(key)).port)));
    expect(owners.size).toBe(3);
    for (const key of keys) await cluster.set(key, `value of ${key}`);
    for (const key of keys) expect(await cluster.get(key)).toBe(`value of ${key}`);
    const [victimKey = ''] = keys;
    await cluster.sendCommand(victimKey, false, ['WAIT', '1', '1000']); // replicated before the kill

    const victim = await redis.masterFor(victimKey);
    await redis.killNode(victim.port);
    await redis.waitForFailover(victim.port);
    const promoted = await redis.masterFor(victimKey);
    expect(promoted.port).not.toBe(victim.port);
    expect((await redis.masters()).map((master) => master.port)).not.toContain(victim.port);

    expect(await eventually(10_000, () => cluster.get(victimKey))).toBe(`value of ${victimKey}`);
    await eventually(10_000, () => cluster.set(victimKey, 'after failover'));
    expect(await cluster.get(victimKey)).toBe('after failover');
    for (const key of keys.slice(1)) expect(await cluster.get(key)).toBe(`value of ${key}`);
  }, 60_000);
});

describe('startRedisSentinel', () => {
  it('serves a sentinel client, and after the master is killed the client writes to the promoted replica', async () => {
    const redis: TestRedisSentinel = await startRedisSentinel();
    cleanup.push(() => redis.close());
    expect(redis.sentinels).toHaveLength(3);
    const sentinel = createSentinel({ name: redis.name, sentinelRootNodes: redis.sentinels });
    sentinel.on('error', () => {});
    await sentinel.connect();
    cleanup.push(() => sentinel.destroy());

    await sentinel.set('greeting', 'hello');
    expect(await sentinel.get('greeting')).toBe('hello');
    await sentinel.sendCommand(false, ['WAIT', '1', '1000']); // replicated before the kill

    const old = await redis.killMaster();
    const promoted = await redis.waitForFailover(old.port);
    expect(promoted.port).not.toBe(old.port);
    expect((await redis.master()).port).toBe(promoted.port);

    expect(await eventually(10_000, () => sentinel.get('greeting'))).toBe('hello');
    await eventually(10_000, () => sentinel.set('greeting', 'after failover'));
    expect(await sentinel.get('greeting')).toBe('after failover');
  }, 60_000);
});
