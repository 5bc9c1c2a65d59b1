/**
 * The product's Redis connections (state/redis.ts): every operation runs under the handle's own
 * deadline, so node-redis's per-command timeout (an AbortSignal and a timer per command, 5 s by
 * default) is off, and commands fail at once while disconnected (no offline queue).
 */
import { describe, expect, it } from '@jest/globals';
import { defaultLogger } from '../../src/observability/log.js';
import { createRedisConnection } from '../../src/state/redis.js';

const settings = { redisCommandTimeoutMs: 500, logger: defaultLogger };

describe('createRedisConnection', () => {
  it('turns off node-redis command timeouts and the offline queue on a server connection', () => {
    const client = createRedisConnection({ ...settings, redisUrl: 'redis://127.0.0.1:1' }) as unknown as {
      options: { commandOptions?: { timeout?: number }; disableOfflineQueue?: boolean };
    };
    expect(client.options.commandOptions?.timeout).toBe(0);
    expect(client.options.disableOfflineQueue).toBe(true);
  });

  it('does the same for every node of a Cluster', () => {
    const cluster = createRedisConnection({
      ...settings,
      redisClusterNodes: ['redis://127.0.0.1:1', 'redis://127.0.0.1:2'],
    }) as unknown as { _options: { defaults?: { commandOptions?: { timeout?: number } } } };
    expect(cluster._options.defaults?.commandOptions?.timeout).toBe(0);
  });
});
