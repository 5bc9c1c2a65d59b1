/**
 * The default session store: in memory, for one process. Unlike express-session's MemoryStore it
 * honours the same per-session lifetime as the Redis store (so abandoned logins vanish quickly) and
 * sweeps expired sessions, so memory stays bounded by traffic over one lifetime.
 *
 * Given the cookie every session of its `parLogin()` gets ({@link TtlMemoryStoreOptions.cookie}), it
 * keeps of a session with that cookie only the cookie's expiry (a number) and rebuilds the rest
 * when it hands the session out: about 130 characters less per session, and less JSON to parse on
 * every request. A session whose cookie differs (an app changed `req.session.cookie`) is kept whole.
 *
 * @module
 */
import session from 'express-session';
import { flattened } from '../state/flat-string.js';
import type { StoredSessionCookie } from './cookies.js';

type Callback<T = unknown> = (err?: unknown, value?: T) => void;

/** Options of {@link TtlMemoryStore}. */
export interface TtlMemoryStoreOptions {
  /** Milliseconds between sweeps of expired sessions. @default 30000 */
  readonly sweepIntervalMs?: number;
  /** The stored `cookie` member every session gets, for a cookie expiring at `expiresMs` (see the module comment). */
  readonly cookie?: (expiresMs: number) => StoredSessionCookie;
}

/** One stored session: its JSON (without its cookie when `cookieExpiresMs` is set) and its expiry. */
class StoredSession {
  constructor(
    readonly json: string,
    public expiresAt: number,
    readonly cookieExpiresMs: number | undefined,
  ) {}
}

/** The expiry of a stored `cookie` member (a `Cookie`, or its JSON), in epoch ms; `NaN` when it has none. */
function cookieExpiry(cookie: { expires?: unknown } | undefined): number {
  const expires = cookie?.expires;
  return expires instanceof Date
    ? expires.getTime()
    : typeof expires === 'string'
      ? Date.parse(expires)
      : NaN;
}

/** An in-memory express-session store with a lifetime per session (seconds). */
export class TtlMemoryStore extends session.Store {
  readonly #sessions = new Map<string, StoredSession>();
  readonly #ttl: (sess: session.SessionData) => number;
  readonly #cookie: ((expiresMs: number) => StoredSessionCookie) | undefined;
  readonly #sweeper: NodeJS.Timeout;

  /** @param ttl Seconds a session lives from its last write or touch. */
  constructor(ttl: (sess: session.SessionData) => number, options: TtlMemoryStoreOptions = {}) {
    super();
    this.#ttl = ttl;
    this.#cookie = options.cookie;
    this.#sweeper = setInterval(() => this.sweep(), options.sweepIntervalMs ?? 30_000).unref();
  }

  /** Drop every expired session now. */
  sweep(now = Date.now()): void {
    for (const [sid, entry] of this.#sessions) if (entry.expiresAt <= now) this.#sessions.delete(sid);
  }

  /** Number of sessions held (expired ones included until swept). */
  get size(): number {
    return this.#sessions.size;
  }

  /**
   * The session, handed to `callback` on a later turn of the event loop (as express-session's
   * MemoryStore and any networked store do). Answering at once ran every logged-in request from
   * its parsing to its response in one go; under load that cost about a tenth more CPU per request
   * than answering a turn later (bench/README.md, "The two stores").
   */
  override get(sid: string, callback: Callback<session.SessionData | null>): void {
    const entry = this.#sessions.get(sid);
    if (entry === undefined || entry.expiresAt <= Date.now()) {
      if (entry) this.#sessions.delete(sid);
      return void setImmediate(callback, undefined, null);
    }
    const sess = JSON.parse(entry.json) as session.SessionData;
    if (entry.cookieExpiresMs !== undefined)
      (sess as { cookie: unknown }).cookie = this.#cookie!(entry.cookieExpiresMs);
    setImmediate(callback, undefined, sess);
  }

  override set(sid: string, sess: session.SessionData, callback?: Callback): void {
    const ttl = this.#ttl(sess);
    if (ttl > 0) this.#sessions.set(sid, this.#stored(sess, Date.now() + ttl * 1000));
    else this.#sessions.delete(sid);
    callback?.();
  }

  /** `sess` as kept: without its cookie when the cookie is the one every session gets. */
  #stored(sess: session.SessionData, expiresAt: number): StoredSession {
    const cookieExpiresMs = cookieExpiry(sess.cookie);
    if (
      this.#cookie !== undefined &&
      Number.isFinite(cookieExpiresMs) &&
      JSON.stringify(sess.cookie) === JSON.stringify(this.#cookie(cookieExpiresMs))
    )
      return new StoredSession(
        flattened(JSON.stringify({ ...sess, cookie: undefined })),
        expiresAt,
        cookieExpiresMs,
      );
    return new StoredSession(flattened(JSON.stringify(sess)), expiresAt, undefined);
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
