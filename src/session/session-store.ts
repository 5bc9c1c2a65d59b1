/**
 * The session store `parLogin()` uses when it runs its own session (own-session.ts): Redis through
 * connect-redis when a Redis is configured (a server, a Cluster or a Sentinel group:
 * state/redis.ts), else an in-memory store; or the store the app passes. Every session's lifetime
 * in the store follows one rule ({@link sessionTtl}).
 *
 * Redis faults must not hang or crash the app: every store operation runs under the Redis handle's
 * deadline and answers `session_store_unavailable` (503) past it; the connection reconnects in the
 * background, so the app recovers without a restart.
 *
 * @module
 */
import { RedisStore } from 'connect-redis';
import type session from 'express-session';
import type { ResolvedConfig } from '../config/resolve-config.js';
import type { RedisHandle } from '../state/redis.js';
import { TtlMemoryStore } from './memory-store.js';
import { storedSessionCookie } from './cookies.js';
import type { ParLoginSessionData } from './session.js';

/** The store and what its owner needs to manage it. */
export interface SessionStoreHandle {
  readonly store: session.Store;
  /** Which kind of store this is. */
  readonly kind: 'redis' | 'memory' | 'app';
  /** The Redis behind the store, or the one the app passed beside its own store: shared state goes there too. */
  readonly redis?: RedisHandle;
  /** Resolves once the store can serve (Redis connected); never rejects. */
  ready(): Promise<void>;
  /** Release what the store holds (the memory store's sweeper); the Redis connection is closed by its opener. */
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

/** A failure as an `Error` (node-redis rejects with errors; anything else is wrapped). */
const asError = (err: unknown): Error => (err instanceof Error ? err : new Error(String(err)));

/** A store callback. */
type Done<T = unknown> = (err?: unknown, data?: T) => void;

/**
 * connect-redis with three changes:
 * - **Reading renews.** express-session touches every session it does not save, on every request:
 *   for connect-redis an `EXPIRE`, a second command and round trip before the response ends. Here
 *   `get` is `GETEX … EX <idle timeout>` (Redis 6.2), so reading renews; `touch` only has work left
 *   when the session's absolute lifetime ends sooner than the idle timeout (its `EXPIRE` then
 *   shortens the lifetime to what is left).
 * - **A deadline.** Every operation runs under the Redis handle's deadline (state/redis.ts).
 * - **One key per command** in `all` and `clear`, which connect-redis does with `MGET` and a
 *   many-key `DEL`: on a Cluster those fail across hash slots.
 */
export class RenewingRedisStore extends RedisStore {
  readonly #idle: number;
  readonly #ttl: (sess: session.SessionData) => number;
  readonly #redis: RedisHandle;

  constructor(
    options: ConstructorParameters<typeof RedisStore>[0] & { ttl: (sess: session.SessionData) => number },
    idleTimeout: number,
    redis: RedisHandle,
  ) {
    super(options);
    this.#ttl = options.ttl;
    this.#idle = idleTimeout;
    this.#redis = redis;
  }

  /** Run `operation` (a connect-redis method, in its callback style) under the deadline. */
  #guarded<T>(operation: (done: Done<T>) => unknown, callback?: Done<T>): Promise<unknown> {
    return this.#redis
      .run(
        () =>
          new Promise<T | undefined>((resolve, reject) => {
            void operation((err, data) => (err ? reject(asError(err)) : resolve(data)));
          }),
      )
      .then(
        (data) => callback?.(null, data),
        (err: unknown) => callback?.(err),
      );
  }

  override async get(sid: string, callback?: Done<session.SessionData | null>): Promise<unknown> {
    let found: session.SessionData | null;
    try {
      const key = this.prefix + sid;
      const data = await this.#redis.run(() => this.client.getEx(key, { type: 'EX', value: this.#idle }));
      found = data ? await this.serializer.parse(String(data)) : null;
    } catch (err) {
      return callback?.(err, null);
    }
    return callback?.(null, found);
  }

  override set(sid: string, sess: session.SessionData, callback?: Done): Promise<unknown> {
    return this.#guarded((done) => super.set(sid, sess, done), callback);
  }

  override touch(sid: string, sess: session.SessionData, callback?: Done): Promise<unknown> {
    if (this.#ttl(sess) >= this.#idle) return Promise.resolve(callback?.(null)); // renewed by the read
    return this.#guarded((done) => super.touch(sid, sess, done), callback);
  }

  override destroy(sid: string, callback?: Done): Promise<unknown> {
    return this.#guarded((done) => super.destroy(sid, done), callback);
  }

  override all(callback?: Done<session.SessionData[]>): Promise<unknown> {
    return this.#eachSession(async (key, id) => {
      const raw = await this.client.get(key);
      return raw ? { ...(await this.serializer.parse(String(raw))), id } : undefined;
    }).then(
      (sessions) =>
        callback?.(
          null,
          sessions.filter((s) => s !== undefined),
        ),
      (err: unknown) => callback?.(err),
    );
  }

  override clear(callback?: Done): Promise<unknown> {
    return this.#eachSession((key) => this.client.del(key)).then(
      () => callback?.(null),
      (err: unknown) => callback?.(err),
    );
  }

  /** `visit` each session key (one command per key), after listing them with connect-redis's scan. */
  async #eachSession<T>(visit: (key: string, id: string) => Promise<T>): Promise<T[]> {
    const ids = await new Promise<string[]>((resolve, reject) => {
      void super.ids((err?: unknown, found?: string[]) =>
        err ? reject(asError(err)) : resolve(found ?? []),
      );
    });
    return Promise.all(ids.map((id) => this.#redis.run(() => visit(this.prefix + id, id))));
  }
}

/** Build the store for a configuration, over the deployment's Redis when there is one. */
export function createSessionStore(
  config: ResolvedConfig,
  redis: RedisHandle | undefined,
): SessionStoreHandle {
  const ttl = sessionTtl(config);
  if (config.sessionStore !== undefined) {
    return {
      store: config.sessionStore,
      kind: 'app',
      ...(redis ? { redis } : {}),
      ready: async () => {},
      close: async () => {},
    };
  }
  if (redis === undefined) {
    const maxAgeMs = config.sessionAbsoluteTimeoutSeconds * 1000;
    const store = new TtlMemoryStore(ttl, {
      cookie: (expiresMs) => storedSessionCookie(maxAgeMs, config.secure, expiresMs),
    });
    return { store, kind: 'memory', ready: async () => {}, close: () => Promise.resolve(store.close()) };
  }
  const store = new RenewingRedisStore(
    { client: redis.commands, prefix: config.sessionPrefix, ttl },
    config.sessionIdleTimeoutSeconds,
    redis,
  );
  // The connection is the instance's, not the store's: parLogin() closes it.
  return { store, kind: 'redis', redis, ready: () => redis.ready(), close: async () => {} };
}
