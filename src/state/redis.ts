/**
 * The deployment's Redis: one home for which Redis (a single server, a Cluster or a Sentinel group),
 * how the product connects to it, the deadline of every operation, and the outage records.
 *
 * - **Connecting** (`REDIS_URL`, `REDIS_CLUSTER_NODES`, `REDIS_SENTINELS`): no offline queue (a
 *   command fails at once while disconnected), a connect timeout, reconnection forever in the
 *   background with a capped backoff, so the app recovers by itself. A connection the app passes
 *   (`redisClient`) is used as it is and stays the app's.
 * - **A real deadline**: node-redis times a command only until it is written to the socket, so a
 *   paused, slow or failing-over Redis would hold a request for as long as it likes. Every operation
 *   of the session store and the shared state runs under {@link RedisHandle.run}, which fails it
 *   after `REDIS_COMMAND_TIMEOUT_MS` whatever Redis does (the command may still run later: every
 *   write is idempotent or conditional, so a late one is harmless).
 * - **Outage records**: the first failure after a success is logged as an error with the cause's
 *   message, the first success after failures as a warning with the outage's length, whichever
 *   topology reports it (a client's `error`, a Cluster's `node-error`, a Sentinel's `client-error`,
 *   or an operation that failed or missed its deadline).
 *
 * @module
 */
import { createClient, createCluster, createSentinel, ErrorReply, type RedisClientType } from 'redis';
import type { RedisConnection } from '../config/options.js';
import type { ResolvedConfig } from '../config/resolve-config.js';
import { causeOf, emit } from '../observability/log.js';
import type { Clock } from '../clock.js';

/** What the Redis handle needs of the configuration. */
export type RedisSettings = Pick<
  ResolvedConfig,
  'redisUrl' | 'redisClusterNodes' | 'redisSentinels' | 'redisClient' | 'redisCommandTimeoutMs' | 'logger'
>;

/** Which kind of Redis a connection talks to. */
export type RedisTopology = 'server' | 'cluster' | 'sentinel';

/**
 * The commands the product sends. The three kinds of connection share them: single-key commands,
 * a `MULTI` over one key, `EVAL` over one key, `SCAN`; a Cluster routes each by its key.
 */
export type RedisCommands = RedisClientType;

/** A connection with its deadline and its outage records. */
export interface RedisHandle {
  readonly topology: RedisTopology;
  readonly commands: RedisCommands;
  /**
   * Run one operation under the deadline: it rejects with the failure, or with a timeout error once
   * `redisCommandTimeoutMs` has passed. Failures and recoveries feed the outage records.
   */
  run<T>(operation: () => Promise<T>): Promise<T>;
  /** Resolves once the connection can serve (an owned one connected); never rejects. */
  ready(): Promise<void>;
  /** Close a connection this module opened; leave the app's alone. */
  close(): Promise<void>;
}

/** Which kind of Redis `connection` is. */
export function topologyOf(connection: RedisConnection): RedisTopology {
  if ('getMasterNode' in connection) return 'sentinel';
  if ('masters' in connection) return 'cluster';
  return 'server';
}

/** The user, password and TLS of a `redis://` / `rediss://` URL, as node-redis options take them. */
function credentialsOf(url: string): { username?: string; password?: string; tls: boolean } {
  const parsed = new URL(url);
  return {
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    tls: parsed.protocol === 'rediss:',
  };
}

/**
 * Create (not connect) the connection the configuration names, with the product's settings;
 * `undefined` when it names none (sessions in memory). `reconnect: false` is for one-shot checks
 * (the doctor): a connection that fails stays down.
 */
export function createRedisConnection(
  config: RedisSettings,
  { reconnect = true }: { reconnect?: boolean } = {},
): RedisConnection | undefined {
  const timeout = config.redisCommandTimeoutMs;
  // No node-redis command timeout (0 turns off its 5 s default): every operation runs under the
  // handle's deadline (and the doctor's under its own), which covers what node-redis's does, and
  // node-redis's adds an AbortSignal and its timer to every command of every logged-in request.
  const common = { disableOfflineQueue: true, commandOptions: { timeout: 0 } };
  const socket = {
    connectTimeout: timeout,
    reconnectStrategy: reconnect ? (retries: number) => Math.min(50 * 2 ** retries, 2_000) : (false as const),
  };
  if (config.redisUrl !== undefined) return createClient({ url: config.redisUrl, ...common, socket });
  if (config.redisClusterNodes !== undefined) {
    const { tls, ...credentials } = credentialsOf(config.redisClusterNodes[0]!);
    return createCluster({
      rootNodes: config.redisClusterNodes.map((url) => ({ url })),
      // Look for the new topology every 500 ms while a node is unreachable (a failover), instead of
      // node-redis's 5 s: a promoted replica serves its slots about a second after its promotion.
      topologyRefreshOnReconnectionAttemptStrategy: 500,
      defaults: { ...common, ...credentials, socket: { ...socket, ...(tls ? { tls: true } : {}) } },
    });
  }
  if (config.redisSentinels !== undefined) {
    const { urls, name } = config.redisSentinels;
    const { tls, ...credentials } = credentialsOf(urls[0]!);
    const clientOptions = { ...common, ...credentials, socket: { ...socket, ...(tls ? { tls: true } : {}) } };
    return createSentinel({
      name,
      sentinelRootNodes: urls.map((url) => {
        const parsed = new URL(url);
        return { host: parsed.hostname, port: Number(parsed.port || 26379) };
      }),
      nodeClientOptions: clientOptions,
      sentinelClientOptions: clientOptions,
    });
  }
  return undefined;
}

/** A timeout error for an operation Redis did not finish within `ms`. */
function deadlineMissed(ms: number): Error {
  return Object.assign(new Error(`Redis did not answer within REDIS_COMMAND_TIMEOUT_MS (${ms} ms)`), {
    code: 'ETIMEDOUT',
  });
}

/** The outage records of one connection: `failed` opens an outage, `succeeded` closes it. */
interface OutageRecords {
  readonly failed: (err: unknown) => void;
  readonly succeeded: () => void;
}

function outageRecords(config: RedisSettings, topology: RedisTopology, clock: Clock): OutageRecords {
  let downSinceMs: number | undefined;
  return {
    failed(err) {
      if (downSinceMs !== undefined) return; // one record per outage, not one per failure
      downSinceMs = clock.nowMs();
      emit(config.logger, 'error', {
        msg: `express-par-login: Redis (${topology}) unavailable: requests that need the session store answer 503`,
        code: 'session_store_unavailable',
        topology,
        cause: causeOf(err) ?? String(err),
      });
    },
    succeeded() {
      if (downSinceMs === undefined) return;
      const outageMs = clock.nowMs() - downSinceMs;
      downSinceMs = undefined;
      emit(config.logger, 'warn', {
        msg: `express-par-login: Redis (${topology}) available again`,
        code: 'session_store_recovered',
        topology,
        outage_ms: outageMs,
      });
    },
  };
}

/**
 * Listen to the connection trouble each kind reports through its own event (a client's `error`, a
 * Cluster's `node-error`, a Sentinel's `client-error`); a listener also keeps an unhandled `error`
 * event from crashing the process.
 */
function watch(connection: RedisConnection, topology: RedisTopology, records: OutageRecords): void {
  const events = connection as unknown as { on(event: string, listener: (...args: unknown[]) => void): void };
  events.on('error', records.failed);
  if (topology === 'cluster') events.on('node-error', records.failed);
  if (topology === 'sentinel')
    events.on('client-error', (event) => records.failed((event as { error?: unknown }).error));
  if (topology === 'server') events.on('ready', records.succeeded);
}

/** `pending`, or a timeout error once `deadlineMs` has passed, whichever comes first. */
export function withDeadline<T>(pending: Promise<T>, deadlineMs: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(deadlineMissed(deadlineMs)), deadlineMs);
    pending.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}

/** Run `operation` under the deadline; its failures and successes feed `records`. */
async function underDeadline<T>(
  operation: () => Promise<T>,
  deadlineMs: number,
  records: OutageRecords,
): Promise<T> {
  try {
    const value = await withDeadline(operation(), deadlineMs);
    records.succeeded();
    return value;
  } catch (err) {
    if (!isAnswer(err)) records.failed(err);
    throw err;
  }
}

/**
 * The deployment's Redis handle: the app's connection (`redisClient`), or one opened from the
 * configuration; `undefined` when neither is configured.
 */
export function openRedis(config: RedisSettings, clock: Clock): RedisHandle | undefined {
  const owned = config.redisClient === undefined;
  const connection = config.redisClient ?? createRedisConnection(config);
  if (connection === undefined) return undefined;
  const topology = topologyOf(connection);
  const records = outageRecords(config, topology, clock);
  watch(connection, topology, records);
  const connected = owned
    ? (connection.connect() as Promise<unknown>).then(
        () => undefined,
        (err: unknown) => records.failed(err),
      )
    : Promise.resolve();
  return {
    topology,
    // The three share the commands the product sends (see RedisCommands).
    commands: connection as unknown as RedisCommands,
    run: (operation) => underDeadline(operation, config.redisCommandTimeoutMs, records),
    ready: () => connected,
    close: async () => {
      if (!owned) return;
      await connected;
      try {
        await (connection as { destroy(): unknown }).destroy();
      } catch {
        // already closed
      }
    },
  };
}

/**
 * Whether an error is Redis answering (a reply such as `WRONGTYPE` or `NOPERM`) rather than Redis
 * being unreachable: an answer is not an outage.
 */
function isAnswer(err: unknown): boolean {
  return err instanceof ErrorReply;
}
