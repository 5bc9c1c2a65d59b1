/**
 * The session `parLogin()` runs itself when the app mounted no session middleware before it. It is
 * express-session's contract without express-session's per-request overhead: the same signed cookie
 * (`s:<id>.<HMAC-SHA256>` signed with `SESSION_SECRET`, the previous secrets still accepted), the
 * same store records and calls (`get`, `set`, `touch`, `destroy` on any express-session store), the
 * same `req.session` API (session-object.ts), and the decisions express-session makes with
 * `resave: false`, `saveUninitialized: false`, `rolling: false`, `unset: 'destroy'`:
 * - a session is saved at the end of the response only when its data changed (or it was
 *   regenerated), else touched; a new session is saved, and its cookie sent, only once it holds data;
 * - the response's last byte waits for that store call, so the next request finds what it wrote;
 * - a session the app set to `null` is destroyed.
 *
 * What it skips: express-session hashes the session (JSON with a replacer, then SHA-1) up to four
 * times per request and wraps `save` and `reload` on every session object; here the session's JSON
 * is compared as a string, taken once when it is loaded and once when the response ends. A store
 * failure once the response has begun is logged (`session_store_unavailable`) instead of being
 * passed to `next` a second time.
 *
 * Defaults: HttpOnly, SameSite=Lax, Secure and `__Host-` on https (sent when the request came over
 * TLS or says `X-Forwarded-Proto: https`), compact ids (session-id.ts).
 *
 * A browser that presents no session cookie needs no session loaded or generated for the login
 * routes: `/login` keeps nothing in the session (login-binding.ts), and `/callback` starts the
 * logged-in session itself with {@link OwnSession.start}, writing the record and the cookie exactly
 * as a session of this middleware is written, so that the next request loads it. A session nobody
 * knew the id of before this response needs no regeneration (session fixation, RFC 9700 §4.3.3
 * spirit, needs an id known beforehand).
 *
 * @see https://github.com/expressjs/session#options (the behaviour this keeps)
 * @module
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type session from 'express-session';
import onHeaders from 'on-headers';
import type { ResolvedConfig } from '../config/resolve-config.js';
import { storeUnavailable, type StoreOperation } from '../errors.js';
import { correlationId, logFailure } from '../observability/log.js';
import { cookieValue, setCookieValue, storedSessionCookie } from './cookies.js';
import { compactSignedSessionIds, signSessionId, unsignSessionId } from './session-id.js';
import {
  loadedCookie,
  RequestSession,
  SessionCookie,
  sessionJson,
  type SessionLedger,
  type StoredCookie,
} from './session-object.js';
import type { SessionStoreHandle } from './session-store.js';
import type { ParLoginSessionData, StartedSession } from './session.js';

/** The session middleware of one `parLogin()` instance, and a way to start a session without it. */
export interface OwnSession {
  /** The session middleware, configured once. */
  readonly middleware: RequestHandler;
  /**
   * Start a new session holding `data` for a browser that presents no session cookie: a fresh id at
   * once; `save` then writes the store record and sets the signed cookie on `res` (it rejects with
   * `session_store_unavailable`, and no cookie is set, when the store cannot write it).
   */
  start(res: Response, data: ParLoginSessionData): StartedSession;
}

/** What every request of one instance shares. */
interface SessionSettings {
  readonly config: ResolvedConfig;
  readonly store: session.Store;
  readonly signedIds: () => { readonly id: string; readonly signature: string };
  readonly cookieOptions: Readonly<Record<string, unknown>>;
  readonly touches: boolean;
}

/** A store callback. */
type Done = (err?: unknown) => void;
/** A store call left to make before the response's last byte: it calls `done` when answered. */
type Commit = (done: () => void) => void;

/** Build the instance's own session middleware. */
export function createOwnSession(config: ResolvedConfig, storeHandle: SessionStoreHandle): OwnSession {
  // Read once: a process's NODE_ENV does not change under a running app.
  let warned = storeHandle.kind !== 'memory' || process.env.NODE_ENV !== 'production';
  const maxAge = config.sessionAbsoluteTimeoutSeconds * 1000;
  const signedIds = compactSignedSessionIds(config.sessionCookieName, config.sessionSecret);
  const store = storeHandle.store;
  const settings: SessionSettings = {
    config,
    store,
    signedIds,
    cookieOptions: { httpOnly: true, sameSite: 'lax', secure: config.secure, path: '/', maxAge },
    touches: typeof store.touch === 'function',
  };
  // A store that says it lost its connection serves no sessions until it says it is back.
  let storeReady = true;
  store.on('disconnect', () => (storeReady = false));
  store.on('connect', () => (storeReady = true));

  return {
    middleware(req, res, next) {
      if (!warned) {
        warned = true;
        config.logger.error({
          msg:
            'express-par-login is using an in-memory session store in production: ' +
            'sessions are lost on restart and not shared between instances. ' +
            'Mount express-session with a real store (e.g. connect-redis) before parLogin().',
        });
      }
      if (req.session !== undefined || !storeReady) return next();
      loadSession(settings, req, res, next);
    },
    start(res, data) {
      const { id, signature } = signedIds();
      const expires = new Date(Date.now() + maxAge);
      const record = {
        cookie: storedSessionCookie(maxAge, config.secure, expires.getTime()),
        parLogin: data,
      };
      const save = () =>
        new Promise<void>((resolve, reject) => {
          store.set(id, record, (err?: unknown) => {
            if (err) return reject(storeUnavailable('save', err));
            // The format of every session cookie: s:<id>.<signature>, URI-encoded.
            res.append(
              'Set-Cookie',
              setCookieValue(
                config.sessionCookieName,
                encodeURIComponent(`s:${id}.${signature}`),
                { expires },
                config.secure,
              ),
            );
            resolve();
          });
        });
      return { id, save };
    },
  };
}

/** Put the session of the request's cookie (or a new one) on `req`, then call `next`. */
function loadSession(settings: SessionSettings, req: Request, res: Response, next: NextFunction): void {
  const { config, store } = settings;
  // `generate` is express-session's own: sessions here regenerate themselves (session-object.ts).
  req.sessionStore = store as typeof req.sessionStore;
  const presented = cookieValue(req.headers.cookie, config.sessionCookieName);
  const cookieId = presented === undefined ? undefined : unsignSessionId(presented, config.sessionSecrets);
  (req as { sessionID?: string }).sessionID = cookieId;
  const ledger = new RequestLedger(settings, req, res, cookieId);
  if (cookieId === undefined) {
    ledger.begin(undefined);
    return next();
  }
  store.get(cookieId, (err: unknown, stored?: session.SessionData | null) => {
    if (err && (err as { code?: unknown }).code !== 'ENOENT') {
      (req as { sessionID?: string }).sessionID = undefined;
      return next(err);
    }
    try {
      ledger.begin(err ? undefined : (stored ?? undefined));
    } catch (failure) {
      return next(failure);
    }
    next();
  });
}

/** One request's session bookkeeping: what was loaded and saved, and the response's hooks. */
class RequestLedger implements SessionLedger {
  savedJson: string | undefined;
  #originalId = '';
  #originalJson = '';
  #touched = false;
  /** The id drawn with its signature (a new session), so setting its cookie signs nothing again. */
  #drawn: { readonly id: string; readonly signature: string } | undefined;
  /** The session's JSON as the response ends, for the cookie decision taken within `end`. */
  #endingJson: string | undefined;

  constructor(
    readonly settings: SessionSettings,
    readonly req: Request,
    readonly res: Response,
    readonly cookieId: string | undefined,
  ) {}

  get store(): session.Store {
    return this.settings.store;
  }

  generate(): void {
    const drawn = this.settings.signedIds();
    this.#drawn = drawn;
    this.req.sessionID = drawn.id;
    this.#put(new RequestSession(this.req, drawn.id, this, new SessionCookie(this.settings.cookieOptions)));
  }

  /** Start the request with the stored session of the cookie, or a new one; hook the response. */
  begin(stored: session.SessionData | undefined): void {
    if (stored === undefined) this.generate();
    else
      this.#put(
        new RequestSession(
          this.req,
          this.cookieId!,
          this,
          loadedCookie(stored.cookie as StoredCookie),
          stored,
        ),
      );
    this.#originalId = this.req.sessionID;
    this.#originalJson = sessionJson(this.req.session);
    if (stored !== undefined) this.savedJson = this.#originalJson;
    onHeaders(this.res, () => this.#beforeHeaders());
    this.#holdEnd();
  }

  #put(sess: RequestSession): void {
    this.req.session = sess;
  }

  #session(): RequestSession | undefined {
    return (this.req.session as unknown as RequestSession | null | undefined) ?? undefined;
  }

  #modified(sess: RequestSession, json: string): boolean {
    return this.#originalId !== sess.id || this.#originalJson !== json;
  }

  /** Whether the end of the response must save the session (express-session's rule, see the module comment). */
  #mustSave(sess: RequestSession, json: string): boolean {
    if (typeof this.req.sessionID !== 'string') return false;
    if (this.savedJson === undefined && this.cookieId !== this.req.sessionID)
      return this.#modified(sess, json);
    return this.#originalId !== sess.id || this.savedJson !== json;
  }

  #touchOnce(sess: RequestSession): void {
    if (this.#touched) return;
    this.#touched = true;
    sess.touch();
  }

  /** Set the session cookie when the session is new and holds data, or was regenerated or changed. */
  #beforeHeaders(): void {
    const sess = this.#session();
    const id = this.req.sessionID;
    if (sess === undefined || typeof id !== 'string') return;
    if (this.cookieId === id && sess.cookie.expires == null) return;
    if (!this.#modified(sess, this.#endingJson ?? sessionJson(sess))) return;
    if (sess.cookie.secure && !secureRequest(this.req, this.settings.config.secure)) return;
    this.#touchOnce(sess);
    const { config } = this.settings;
    try {
      const signature =
        this.#drawn?.id === id ? this.#drawn.signature : signSessionId(id, config.sessionSecret);
      this.res.append('Set-Cookie', sess.cookie.serialize(config.sessionCookieName, `s:${id}.${signature}`));
    } catch (err) {
      this.#report(undefined, err);
    }
  }

  /** The store call the end of the response waits for, if any. */
  #commit(): Commit | undefined {
    const { store, touches } = this.settings;
    const id = this.req.sessionID;
    const sess = this.#session();
    if (sess === undefined) {
      if (typeof id !== 'string' || id === '') return undefined;
      return (done) => store.destroy(id, this.#answered('destroy', done)); // the app set req.session to null
    }
    this.#touchOnce(sess);
    const json = sessionJson(sess);
    this.#endingJson = json;
    if (this.#mustSave(sess, json)) return (done) => sess.save(this.#answered('save', done));
    if (touches && typeof id === 'string' && this.cookieId === id)
      return (done) =>
        store.touch!(id, sess as unknown as session.SessionData, this.#answered('touch', done));
    return undefined;
  }

  #answered(operation: StoreOperation, done: () => void): Done {
    return (err) => {
      if (err) this.#report(operation, err);
      done();
    };
  }

  /** Log a failure after the response began: the response goes on; the next request sees the store's state. */
  #report(operation: StoreOperation | undefined, err: unknown): void {
    const failure = operation === undefined ? err : storeUnavailable(operation, err);
    logFailure(this.settings.config.logger, failure, correlationId(), this.req.method, this.req.path);
  }

  /** Wrap `res.end` so that its last byte waits for {@link #commit}'s store call. */
  #holdEnd(): void {
    const res = this.res;
    const end = res.end.bind(res) as (
      chunk?: unknown,
      encoding?: BufferEncoding,
      callback?: () => void,
    ) => Response;
    let ended = false;
    res.end = ((chunk?: unknown, encoding?: unknown, callback?: unknown): Response => {
      if (typeof chunk === 'function') [callback, chunk] = [chunk, undefined];
      else if (typeof encoding === 'function') [callback, encoding] = [encoding, undefined];
      const cb = callback as (() => void) | undefined;
      const enc = encoding as BufferEncoding | undefined;
      if (ended) return res;
      ended = true;
      const commit = this.#commit();
      if (commit === undefined) return end(chunk, enc, cb);
      return endAfter(res, end, commit, chunk, enc, cb);
    }) as Response['end'];
  }
}

/**
 * End `res` once `commit` is answered: the body is written at once but its last byte (or, without a
 * `Content-Length`, the end of the chunked body) waits, so the browser cannot act on the response
 * (follow a redirect, load the next page) before the store holds the session.
 */
function endAfter(
  res: Response,
  end: (chunk?: unknown, encoding?: BufferEncoding, callback?: () => void) => Response,
  commit: Commit,
  chunk: unknown,
  encoding: BufferEncoding | undefined,
  callback: (() => void) | undefined,
): Response {
  let answered = false;
  let writing = false;
  let held: Buffer | undefined = undefined; // the last byte, once written up to it
  commit(() => {
    answered = true;
    if (writing) end(held, undefined, callback);
  });
  if (answered) return end(chunk, encoding, callback); // answered at once: nothing to hold back
  writing = true;
  if (chunk === undefined || chunk === null) return res;
  const length = Number(res.getHeader('Content-Length'));
  if (!(length > 0)) {
    res.write(chunk, encoding!);
    return res;
  }
  const bytes =
    typeof chunk === 'string'
      ? Buffer.from(chunk, encoding)
      : Buffer.isBuffer(chunk)
        ? chunk
        : Buffer.from(chunk as Uint8Array);
  if (bytes.length > 1) res.write(bytes.subarray(0, bytes.length - 1));
  held = bytes.subarray(Math.max(0, bytes.length - 1));
  return res;
}

/** Whether the browser reached the app over https, as express-session judges it with `proxy: true` on https. */
function secureRequest(req: Request, httpsBaseUrl: boolean): boolean {
  if ((req.socket as { encrypted?: boolean }).encrypted === true) return true;
  if (!httpsBaseUrl) return req.secure;
  const header = req.headers['x-forwarded-proto'];
  const first = (Array.isArray(header) ? header[0] : header)?.split(',')[0];
  return first?.trim().toLowerCase() === 'https';
}
