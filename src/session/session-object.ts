/**
 * `req.session` of the session `parLogin()` runs itself (own-session.ts): an object that behaves as
 * express-session's `Session` does for the app (its data as own enumerable properties, its `cookie`
 * an express-session `Cookie`, and `id`, `save`, `reload`, `regenerate`, `destroy`, `touch` and
 * `resetMaxAge`), and that tells the request's {@link SessionLedger} what it did, so that the end of
 * the response knows whether to save it.
 *
 * @see https://github.com/expressjs/session#readme (the `req.session` API apps already use)
 * @module
 */
import type { Request } from 'express';
import session from 'express-session';

/** A store callback. */
type Done = (err?: unknown) => void;

/** What a request's session reports to, and what it needs from the middleware that made it. */
export interface SessionLedger {
  readonly store: session.Store;
  /** {@link sessionJson} of what was last loaded or saved under `req.sessionID`; none for a new session. */
  savedJson: string | undefined;
  /** Put a new empty session, under a new id, on the request. */
  generate(): void;
}

/** A cookie member as a store hands it back: express-session's `Cookie`, or its JSON. */
export type StoredCookie = session.CookieOptions & {
  expires?: Date | string;
  originalMaxAge?: number | null;
};

/** The session's data as JSON, without its cookie: what tells whether the app changed it. */
export function sessionJson(sess: object): string {
  // JSON leaves out undefined members: no replacer, so JSON.stringify stays on its fast path.
  return JSON.stringify({ ...sess, cookie: undefined });
}

/** express-session's `Cookie`, as it is at run time (its type declares neither constructor nor `serialize`). */
export type SessionCookie = session.Cookie & {
  /** The `Set-Cookie` value for `name=value` with this cookie's attributes (values are URI-encoded). */
  serialize(name: string, value: string): string;
};
/** Build an express-session `Cookie` from options, or from a stored cookie member. */
export const SessionCookie = session.Cookie as unknown as new (options?: object) => SessionCookie;

/** A stored cookie member as express-session's `Cookie`, its expiry and original lifetime kept. */
export function loadedCookie(stored: StoredCookie): SessionCookie {
  const { expires, originalMaxAge } = stored;
  const cookie = new SessionCookie(stored);
  if (typeof expires === 'string') cookie.expires = new Date(expires);
  cookie.originalMaxAge = originalMaxAge ?? null;
  return cookie;
}

/** The session of one request (see the module comment). */
export class RequestSession {
  declare cookie: SessionCookie;
  [data: string]: unknown;
  readonly #req: Request;
  readonly #id: string;
  readonly #ledger: SessionLedger;

  /** A session under `id` holding `data` (its `cookie` member ignored: `cookie` is the session's). */
  constructor(req: Request, id: string, ledger: SessionLedger, cookie: SessionCookie, data?: object) {
    this.#req = req;
    this.#id = id;
    this.#ledger = ledger;
    this.cookie = cookie;
    if (data !== undefined)
      for (const [key, value] of Object.entries(data))
        if (key !== 'cookie' && !(key in this)) this[key] = value;
  }

  get id(): string {
    return this.#id;
  }

  get req(): Request {
    return this.#req;
  }

  /** Restart the cookie's lifetime (`resetMaxAge`). */
  touch(): this {
    return this.resetMaxAge();
  }

  resetMaxAge(): this {
    // A cookie without a lifetime (originalMaxAge null) stays one: express-session's Cookie takes null.
    (this.cookie as { maxAge: number | null }).maxAge = this.cookie.originalMaxAge;
    return this;
  }

  /** Write the session to the store now (the end of the response then has nothing left to save). */
  save(callback?: Done): this {
    this.#ledger.savedJson = sessionJson(this);
    this.#ledger.store.set(this.#id, this as unknown as session.SessionData, callback ?? noop);
    return this;
  }

  /** Replace the session's data with what the store holds (an error when it holds nothing). */
  reload(callback: Done): this {
    const req = this.#req;
    const ledger = this.#ledger;
    ledger.store.get(this.#id, (err, stored) => {
      if (err) return callback(err);
      if (!stored) return callback(new Error('failed to load session'));
      const reloaded = new RequestSession(
        req,
        this.#id,
        ledger,
        loadedCookie(stored.cookie as StoredCookie),
        stored,
      );
      req.session = reloaded;
      callback();
    });
    return this;
  }

  /** Remove the session from the request and from the store. */
  destroy(callback?: Done): this {
    delete (this.#req as { session?: unknown }).session;
    this.#ledger.store.destroy(this.#id, callback);
    return this;
  }

  /** Destroy the session in the store and put a new empty one, under a new id, on the request. */
  regenerate(callback: Done): this {
    this.#ledger.store.destroy(this.#req.sessionID, (err?: unknown) => {
      this.#ledger.generate();
      callback(err);
    });
    return this;
  }
}

function noop(): void {}
