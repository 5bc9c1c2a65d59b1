/**
 * Doctor check: the Redis of `REDIS_URL`, `REDIS_CLUSTER_NODES` or `REDIS_SENTINELS` answers, with
 * the library's connection settings (its deadline and connect timeout, no retry), and is 6.2 or
 * newer (sessions are read with `GETEX`, pending logins taken with `SET … GET`). A Cluster must
 * have every slot served (`cluster_state:ok`) and each master answers; a Sentinel group must name a
 * master that answers. URLs are never printed: they may hold a password; only hosts and ports are.
 *
 * @module
 */
import type { RedisClusterType, RedisSentinelType } from 'redis';
import type { ResolvedConfig } from '../config/resolve-config.js';
import {
  createRedisConnection,
  topologyOf,
  withDeadline,
  type RedisCommands,
  type RedisTopology,
} from '../state/redis.js';
import { failed, passed, type CheckResult } from './check.js';

const NAME = 'Redis';

/** `host:port` of a Redis URL, without user or password. */
function where(redisUrl: string): string {
  const url = new URL(redisUrl);
  return `${url.protocol}//${url.hostname}:${url.port || '6379'}`;
}

/** The oldest Redis the middleware works with (GETEX and SET … GET came with 6.2). */
export const MIN_REDIS_VERSION = '6.2.0';

/** The `redis_version` of an `INFO server` answer, or `undefined`. */
export function redisVersion(info: string): string | undefined {
  return /^redis_version:(\d+\.\d+\.\d+)/m.exec(info)?.[1];
}

/** Whether dotted version `version` is at least `minimum`. */
export function atLeast(version: string, minimum: string): boolean {
  const [a, b] = [version, minimum].map((v) => v.split('.').map(Number));
  for (let i = 0; i < 3; i += 1) if (a![i]! !== b![i]!) return a![i]! > b![i]!;
  return true;
}

/** What the configuration names, host and port only. */
function targetOf(config: ResolvedConfig): string {
  if (config.redisUrl !== undefined) return where(config.redisUrl);
  if (config.redisClusterNodes !== undefined)
    return `the Cluster at ${config.redisClusterNodes.map(where).join(', ')}`;
  const sentinels = config.redisSentinels!;
  return `master "${sentinels.name}" of the Sentinels at ${sentinels.urls.map(where).join(', ')}`;
}

/** The variable that names the Redis, for the fix. */
const VARIABLE: Record<RedisTopology, string> = {
  server: 'REDIS_URL',
  cluster: 'REDIS_CLUSTER_NODES',
  sentinel: 'REDIS_SENTINELS and REDIS_SENTINEL_NAME',
};

/**
 * Ask each node that serves data for its version: the one server, every Cluster master, or the
 * master the Sentinels name. Says what answered.
 */
async function versions(
  topology: RedisTopology,
  connection: unknown,
  deadline: <T>(pending: Promise<T>) => Promise<T>,
): Promise<{ answered: string; versions: string[] }> {
  const versionOf = async (client: Pick<RedisCommands, 'info'>): Promise<string> =>
    redisVersion(String(await deadline(client.info('server')))) ?? 'unknown';
  if (topology === 'cluster') {
    const cluster = connection as RedisClusterType;
    const masters = cluster.masters;
    const clients = await Promise.all(masters.map((master) => deadline(cluster.nodeClient(master))));
    const state = clients[0] === undefined ? '' : await deadline(clients[0].clusterInfo());
    if (!state.includes('cluster_state:ok'))
      throw new Error('the Cluster is not ok (cluster_state is not ok: some hash slots are not served)');
    const found = await Promise.all(clients.map(versionOf));
    return { answered: `${masters.length} masters answered`, versions: found };
  }
  if (topology === 'sentinel') {
    const sentinel = connection as RedisSentinelType;
    const master = sentinel.getMasterNode();
    const address = master ? `${master.host}:${master.port}` : 'unknown';
    const version = await versionOf(sentinel);
    return { answered: `master ${address} answered`, versions: [version] };
  }
  const client = connection as RedisCommands;
  if ((await deadline(client.ping())) !== 'PONG') throw new Error('PING did not answer PONG');
  return { answered: 'answered PING', versions: [await versionOf(client)] };
}

/**
 * Connect to the configured Redis (a server, a Cluster or a Sentinel group), check that it serves
 * and read its version; passes with a note when no Redis is configured.
 */
export async function checkRedis(config: ResolvedConfig): Promise<CheckResult> {
  const connection = createRedisConnection(config, { reconnect: false });
  if (connection === undefined) {
    return passed(
      NAME,
      'not configured: sessions are kept in memory (fine for one instance; set REDIS_URL, ' +
        'REDIS_CLUSTER_NODES or REDIS_SENTINELS when the app runs on several)',
    );
  }
  const topology = topologyOf(connection);
  const target = targetOf(config);
  const timeout = config.redisCommandTimeoutMs;
  const deadline = <T>(pending: Promise<T>): Promise<T> => withDeadline(pending, timeout);
  const events = connection as unknown as { on(event: string, listener: () => void): void };
  for (const event of ['error', 'node-error', 'client-error']) events.on(event, () => {}); // reported below
  const started = Date.now();
  try {
    await deadline(connection.connect() as Promise<unknown>);
    const found = await versions(topology, connection, deadline);
    const elapsed = Date.now() - started;
    const old = found.versions.find(
      (version) => version !== 'unknown' && !atLeast(version, MIN_REDIS_VERSION),
    );
    if (old !== undefined) {
      return failed(
        NAME,
        `${target} runs Redis ${old}, older than ${MIN_REDIS_VERSION}: ` +
          'sessions are read with GETEX and pending logins taken with SET … GET',
        `Upgrade Redis to ${MIN_REDIS_VERSION} or newer, ` +
          `or unset ${VARIABLE[topology]} to keep sessions in memory (one instance only).`,
      );
    }
    const known = [...new Set(found.versions.filter((v) => v !== 'unknown'))];
    return passed(
      NAME,
      `${target}: ${found.answered} in ${elapsed} ms${known.length ? ` (Redis ${known.join(', ')})` : ''}`,
    );
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    const message = err instanceof Error ? err.message : String(err);
    const reason = `${message}${typeof code === 'string' && !String(err).includes(code) ? ` (${code})` : ''}`;
    return failed(
      NAME,
      `${target} did not answer: ${reason}`,
      /WRONGPASS|NOAUTH|NOPERM/.test(reason)
        ? `Put the right user and password in ${VARIABLE[topology]} (redis://user:password@host:port).`
        : `Start Redis or fix ${VARIABLE[topology]} (hosts, ports, redis:// or rediss:// for TLS); ` +
            `it must answer within REDIS_COMMAND_TIMEOUT_MS (${timeout} ms). ` +
            `Or unset ${VARIABLE[topology]} to keep sessions in memory (one instance only).`,
    );
  } finally {
    try {
      await (connection as { destroy(): unknown }).destroy();
    } catch {
      // never connected
    }
  }
}
