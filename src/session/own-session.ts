/**
 * The session `parLogin()` runs itself when the app mounted no session middleware before it:
 * express-session with secure defaults (HttpOnly, SameSite=Lax, Secure and `__Host-` on https,
 * compact ids: session-id.ts), over the store of session-store.ts.
 *
 * A browser that presents no session cookie needs no session loaded or generated for the login
 * routes: `/login` keeps nothing in the session (login-binding.ts), and `/callback` starts the
 * logged-in session itself with {@link OwnSession.start}, writing the record and the cookie exactly
 * as express-session would (`s:<id>.<HMAC-SHA256>` signed with `SESSION_SECRET`, the session's
 * `cookie` member as express-session serializes it), so that express-session loads it on the next
 * request. A session nobody knew the id of before this response needs no regeneration (session
 * fixation, RFC 9700 §4.3.3 spirit, needs an id known beforehand).
 *
 * @module
 */
import type { RequestHandler, Response } from 'express';
import session from 'express-session';
import type { ResolvedConfig } from '../config/resolve-config.js';
import { setCookieValue, storedSessionCookie } from './cookies.js';
import { storeUnavailable } from '../errors.js';
import { compactSignedSessionIds } from './session-id.js';
import type { SessionStoreHandle } from './session-store.js';
import type { ParLoginSessionData, StartedSession } from './session.js';

/** The session middleware of one `parLogin()` instance, and a way to start a session without it. */
export interface OwnSession {
  /** express-session, configured once. */
  readonly middleware: RequestHandler;
  /**
   * Start a new session holding `data` for a browser that presents no session cookie: a fresh id at
   * once; `save` then writes the store record and sets the signed cookie on `res` (it rejects with
   * `session_store_unavailable`, and no cookie is set, when the store cannot write it).
   */
  start(res: Response, data: ParLoginSessionData): StartedSession;
}

/** Build the instance's own session middleware. */
export function createOwnSession(config: ResolvedConfig, storeHandle: SessionStoreHandle): OwnSession {
  // Read once: a process's NODE_ENV does not change under a running app.
  let warned = storeHandle.kind !== 'memory' || process.env.NODE_ENV !== 'production';
  const maxAge = config.sessionAbsoluteTimeoutSeconds * 1000;
  const signedIds = compactSignedSessionIds(config.sessionCookieName, config.sessionSecret);
  const express = session({
    name: config.sessionCookieName,
    secret: [...config.sessionSecrets],
    genid: () => signedIds().id,
    store: storeHandle.store,
    resave: false,
    saveUninitialized: false,
    rolling: false,
    unset: 'destroy',
    // With an https baseUrl the browser reached the app over https, whatever Express was told about
    // the proxy in front of it: the cookie is sent (Secure) as OwnSession.start sends it, instead of
    // being withheld whenever `trust proxy` is missing (web/proxy-trust.ts logs that mistake).
    ...(config.secure ? { proxy: true } : {}),
    cookie: { httpOnly: true, sameSite: 'lax', secure: config.secure, path: '/', maxAge },
  });

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
      express(req, res, next);
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
          storeHandle.store.set(id, record, (err?: unknown) => {
            if (err) return reject(storeUnavailable('save', err));
            // The format express-session sends: s:<id>.<signature>, URI-encoded.
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
