/**
 * The default session store: in memory, for one process. Unlike express-session's MemoryStore it
 * honours the same per-session lifetime as the Redis store (so abandoned logins vanish quickly) and
 * sweeps expired sessions, so memory stays bounded by traffic over one lifetime.
 *
 * @module
 */
import session from 'express-session';
import { flattened } from '../state/flat-string.js';

type Callback<T = unknown> = (err?: unknown, value?: T) => void;

/** An in-memory express-session store with a lifetime per session (seconds). */
export class TtlMemoryStore extends session.Store {
  readonly #sessions = new Map<string, { json: string; expiresAt: number }>();
  readonly #ttl: (sess: session.SessionData) => number;
  readonly #sweeper: NodeJS.Timeout;

  /** @param ttl Seconds a session lives from its last write or touch. */
  constructor(ttl: (sess: session.SessionData) => number, sweepIntervalMs = 30_000) {
    super();
    this.#ttl = ttl;
    this.#sweeper = setInterval(() => this.sweep(), sweepIntervalMs).unref();
  }

  /** Drop every expired session now. */
  sweep(now = Date.now()): void {
    for (const [sid, entry] of this.#sessions) if (entry.expiresAt <= now) this.#sessions.delete(sid);
  }

  /** Number of sessions held (expired ones included until swept). */
  get size(): number {
    return this.#sessions.size;
  }

  override get(sid: string, callback: Callback<session.SessionData | null>): void {
    const entry = this.#sessions.get(sid);
    if (entry === undefined || entry.expiresAt <= Date.now()) {
      if (entry) this.#sessions.delete(sid);
      return callback(undefined, null);
    }
    callback(undefined, JSON.parse(entry.json) as session.SessionData);
  }

  override set(sid: string, sess: session.SessionData, callback?: Callback): void {
    const ttl = this.#ttl(sess);
    if (ttl > 0)
      this.#sessions.set(sid, { json: flattened(JSON.stringify(sess)), expiresAt: Date.now() + ttl * 1000 });
    else this.#sessions.delete(sid);
    callback?.();
  }

  override touch(sid: string, sess: session.SessionData, callback?: Callback): void {
    const entry = this.#sessions.get(sid);
    if (entry !== undefined) entry.expiresAt = Date.now() + this.#ttl(sess) * 1000;
    callback?.();
  }

  override destroy(sid: string, callback?: Callback): void {
    this.#sessions.delete(sid);
    callback?.();
  }

  override length(callback: Callback<number>): void {
    callback(undefined, this.#sessions.size);
  }

  override clear(callback?: Callback): void {
    this.#sessions.clear();
    callback?.();
  }

  /** Stop the sweeper. */
  close(): void {
    clearInterval(this.#sweeper);
  }
}
