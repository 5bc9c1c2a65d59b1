/**
 * The middleware's state inside express-session: the logged-in user (claims and a reference to the
 * tokens, server-side only). Pending logins live beside it (login-binding.ts). Store failures
 * become `session_store_unavailable`.
 *
 * @module
 */
import type { Request, Response } from 'express';
import type { Session } from 'express-session';
import { storeUnavailable } from '../errors.js';
import type { IdTokenClaims } from '../client/id-token.js';

/** The logged-in user, as kept in the session. */
export interface SessionUser {
  /** The validated ID token's claims. */
  readonly claims: IdTokenClaims;
  /** The reference of the session's tokens in the token vault (`token-vault.ts`); never sent to the browser. */
  readonly tokenRef: string;
  /** Epoch seconds of the login. */
  readonly loggedInAt: number;
  /** The token type: `Bearer`, or `DPoP` for DPoP-bound tokens (RFC 9449). */
  readonly tokenType?: string;
  /** The DPoP key the tokens are bound to (`dpop: 'session'`), encrypted like the tokens. */
  readonly sealedDpopKey?: string;
  /** Rich Authorization Requests (RFC 9396): what this login asked for and what the AS granted. */
  readonly authorizationDetails?: {
    /** The `authorization_details` pushed with the login (RFC 9396 §2). */
    readonly requested: ReadonlyArray<Record<string, unknown>>;
    /** The `authorization_details` of the token response (RFC 9396 §7), when the AS returned them. */
    readonly granted?: ReadonlyArray<Record<string, unknown>>;
  };
}

/** Everything the middleware keeps in one session, under `req.session.parLogin`. */
export interface ParLoginSessionData {
  user?: SessionUser;
}

declare module 'express-session' {
  interface SessionData {
    /** express-par-login's state. */
    parLogin: ParLoginSessionData;
  }
}

/** The session, or a 500 explaining that no session middleware ran. */
export function requireSession(req: Request): Session & Partial<import('express-session').SessionData> {
  if (req.session === undefined) {
    throw storeUnavailable('load');
  }
  return req.session;
}

/** The middleware's data in the session, created when `create` is set. */
export function sessionData(req: Request, create: true): ParLoginSessionData;
export function sessionData(req: Request, create?: false): ParLoginSessionData | undefined;
export function sessionData(req: Request, create = false): ParLoginSessionData | undefined {
  const session = req.session as (Session & { parLogin?: ParLoginSessionData }) | undefined;
  if (session === undefined) return undefined;
  if (create && session.parLogin === undefined) session.parLogin = {};
  return session.parLogin;
}

/** The logged-in user of the request, if any. */
export function sessionUser(req: Request): SessionUser | undefined {
  return (req.session as { parLogin?: ParLoginSessionData } | undefined)?.parLogin?.user;
}

function storeCall(req: Request, what: 'save' | 'regenerate' | 'destroy'): Promise<void> {
  const session = requireSession(req);
  return new Promise((resolve, reject) => {
    session[what]((err?: unknown) => {
      if (err) reject(storeUnavailable(what, err));
      else resolve();
    });
  });
}

/**
 * Starts a logged-in session for a browser without one (own-session.ts): its id at once, and `save`
 * to write it (the record, then the cookie).
 */
export type SessionStarter = (res: Response, data: ParLoginSessionData) => StartedSession;

/** A session started by a {@link SessionStarter}: nothing is written until `save`. */
export interface StartedSession {
  readonly id: string;
  /** Write the record, then set the cookie; rejects with `session_store_unavailable` (no cookie set). */
  save(): Promise<void>;
}

/** Save the session now (before a redirect, so the next request finds it). */
export const saveSession = (req: Request): Promise<void> => storeCall(req, 'save');
/** Replace the session with a new one under a new id (session fixation defence). */
export const regenerateSession = (req: Request): Promise<void> => storeCall(req, 'regenerate');
/** Destroy the session in the store. */
export const destroySession = (req: Request): Promise<void> => storeCall(req, 'destroy');
