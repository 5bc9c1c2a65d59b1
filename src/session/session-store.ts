/**
 * The session store `parLogin()` uses when it mounts express-session itself: Redis through
 * connect-redis when `REDIS_URL` (or a client) is configured, else an in-memory store; or the
 * store the app passes. Every session's lifetime in the store follows one rule ({@link sessionTtl}).
 *
 * Redis faults must not hang or crash the app: the client fails commands at once while
 * disconnected (no offline queue), bounds each command by a timeout, and reconnects forever in
 * the background, so the app recovers without a restart.
 *
 * @module
 */
import { RedisStore } from 'connect-redis';
import type session from 'express-session';
import { createClient, type RedisClientType } from 'redis';
import type { ResolvedConfig } from '../config/resolve-config.js';
import { TtlMemoryStore } from './memory-store.js';
import type { ParLoginSessionData } from './session.js';

/** The store and what its owner needs to manage it. */
export interface SessionStoreHandle {
  readonly store: session.Store;
  /** Which kind of store this is. */
  readonly kind: 'redis' | 'memory' | 'app';
  /** The Redis client behind the store, or the one the app passed beside its own store: shared state goes there too. */
  readonly redis?: RedisClientType;
  /** Resolves once the store can serve (Redis connected); never rejects. */
  ready(): Promise<void>;
  /** Release what this instance created (a Redis connection it opened, the sweeper). */
  close(): Promise<void>;
}

/**
 * Seconds a session lives in the store from its last write or touch:
 * - logged in: the idle timeout, cut to what is left of the absolute lifetime;
 * - anything else (an app's own data): the idle timeout.
 * Pending logins are not in sessions (login-binding.ts): an abandoned login leaves no session.
 */
export function sessionTtl(config: ResolvedConfig) {
  return (sess: session.SessionData): number => {
    const data = (sess as { parLogin?: ParLoginSessionData }).parLogin;
    const now = Date.now();
    if (data?.user !== undefined) {
      const absoluteLeft =
        data.user.loggedInAt + config.sessionAbsoluteTimeoutSeconds - Math.floor(now / 1000);
      return Math.max(0, Math.min(config.sessionIdleTimeoutSeconds, absoluteLeft));
    }
    return config.sessionIdleTimeoutSeconds;
  };
}

/**
 * connect-redis that renews a session's idle timer in the command that reads it. express-session
 * touches every session it does not save, on every request: for connect-redis an `EXPIRE`, a second
 * command and round trip before the response ends. Here `get` is `GETEX … EX <idle timeout>`
 * (Redis 6.2), so reading renews; `touch` only has work left when the session's absolute lifetime
 * ends sooner than the idle timeout (its `EXPIRE` then shortens the lifetime to what is left).
 */
export class RenewingRedisStore extends RedisStore {
  readonly #idle: number;
  readonly #ttl: (sess: session.SessionData) => number;

  constructor(
    options: ConstructorParameters<typeof RedisStore>[0] & { ttl: (sess: session.SessionData) => number },
    idleTimeout: number,
  ) {
    super(options);
    this.#ttl = options.ttl;
    this.#idle = idleTimeout;
  }

  override async get(
    sid: string,
    callback?: (err: unknown, data?: session.SessionData | null) => void,
  ): Promise<unknown> {
    try {
      const data = await this.client.getEx(this.prefix + sid, { type: 'EX', value: this.#idle });
      if (!data) return callback?.(null, null);
      return callback?.(null, await this.serializer.parse(String(data)));
    } catch (err) {
      return callback?.(err, null);
    }
  }

  override async touch(
    sid: string,
    sess: session.SessionData,
    callback?: (err?: unknown) => void,
  ): Promise<unknown> {
    if (this.#ttl(sess) >= this.#idle) return callback?.(null); // renewed by the read
    return super.touch(sid, sess, callback as never);
  }
}

/** Build the store for a configuration. */
export function createSessionStore(config: ResolvedConfig): SessionStoreHandle {
  const ttl = sessionTtl(config);
  if (config.sessionStore !== undefined) {
    return {
      store: config.sessionStore,
      kind: 'app',
      ...(config.redisClient ? { redis: config.redisClient } : {}),
      ready: async () => {},
      close: async () => {},
    };
  }
  if (config.redisUrl === undefined && config.redisClient === undefined) {
    const store = new TtlMemoryStore(ttl);
    return { store, kind: 'memory', ready: async () => {}, close: () => Promise.resolve(store.close()) };
  }
  const owned = config.redisClient === undefined;
  const client =
    config.redisClient ??
    createClient({
      url: config.redisUrl,
      disableOfflineQueue: true,
      commandOptions: { timeout: config.redisCommandTimeoutMs },
      socket: {
        connectTimeout: config.redisCommandTimeoutMs,
        reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 2_000),
      },
    });
  let down = false;
  client.on('error', (err: Error) => {
    if (down) return; // one record per outage, not one per reconnect attempt
    down = true;
    config.logger.error({
      msg: 'express-par-login: Redis session store unavailable',
      code: 'session_store_unavailable',
      error: err.message,
    });
  });
  client.on('ready', () => {
    if (down) config.logger.warn({ msg: 'express-par-login: Redis session store available again' });
    down = false;
  });
  const connected = owned
    ? client.connect().then(
        () => undefined,
        () => undefined,
      )
    : Promise.resolve();
  const store = new RenewingRedisStore(
    { client, prefix: config.sessionPrefix, ttl },
    config.sessionIdleTimeoutSeconds,
  );
  return {
    store,
    kind: 'redis',
    redis: client,
    ready: () => connected,
    close: async () => {
      if (!owned) return;
      await connected;
      try {
        client.destroy();
      } catch {
        // already closed
      }
    },
  };
}
