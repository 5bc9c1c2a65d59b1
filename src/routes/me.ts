/**
 * GET /me: the session endpoint a front end needs: the user's claims, when the session ends, and
 * how to log out (POST to `logoutUrl` from the app's own page). 401 JSON when anonymous.
 * Protocol claims that mean nothing to a front end (`nonce`, hashes) are left out; no token is sent.
 *
 * @module
 */
import type { Request, Response } from 'express';
import type { ParLoginContext } from '../context.js';
import { ParLoginError } from '../errors.js';
import type { IdTokenClaims } from '../client/id-token.js';
import { sessionUser } from '../session/session.js';

const HIDDEN_CLAIMS = new Set(['nonce', 'at_hash', 'c_hash', 's_hash']);

/** The claims a front end may see. */
export function publicClaims(claims: IdTokenClaims): Record<string, unknown> {
  return Object.fromEntries(Object.entries(claims).filter(([name]) => !HIDDEN_CLAIMS.has(name)));
}

/** What GET /me answers for a logged-in user. */
export interface SessionInfo {
  claims: Record<string, unknown>;
  session: {
    /** Epoch seconds of the login. */
    loggedInAt: number;
    /** Epoch seconds when the session ends unless used again (the idle timeout, capped by the absolute one). */
    expiresAt: number;
    /** Epoch seconds when the session ends whatever happens (the absolute lifetime). */
    absoluteExpiresAt: number;
  };
  /** Where to POST to log out. */
  logoutUrl: string;
}

/** Build the GET /me handler. */
export function meRoute(ctx: ParLoginContext) {
  const { config, clock } = ctx;
  const logoutUrl = config.basePath + config.paths.logout;
  return function me(req: Request, res: Response): void {
    res.set('Cache-Control', 'no-store');
    const user = sessionUser(req);
    if (user === undefined) throw new ParLoginError('unauthenticated', 'Not logged in.');
    const absoluteExpiresAt = user.loggedInAt + config.sessionAbsoluteTimeoutSeconds;
    const body: SessionInfo = {
      claims: publicClaims(user.claims),
      session: {
        loggedInAt: user.loggedInAt,
        expiresAt: Math.min(absoluteExpiresAt, clock.nowSeconds() + config.sessionIdleTimeoutSeconds),
        absoluteExpiresAt,
      },
      logoutUrl,
    };
    res.json(body);
  };
}
