/**
 * GET /me: the session endpoint a front end needs: the user's claims, when the session ends, and
 * how to log out (POST to `logoutUrl` from the app's own page). 401 JSON when anonymous.
 * Protocol claims that mean nothing to a front end (`nonce`, hashes) are left out; no token is sent.
 *
 * @module
 */
import type { Request, Response } from 'express';
import type { ParLoginContext } from '../context.js';
import type { Tracer } from '../observability/debug.js';
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

/** The answer to an anonymous `/me`, built once: the same body the responder gives `unauthenticated`. */
const ANONYMOUS = JSON.stringify({ error: 'unauthenticated', error_description: 'Not logged in.' });

/**
 * Answer an anonymous `/me`: front ends poll it to learn whether anyone is logged in, so it is an
 * answer, not a failure. No log record (a trace line when tracing is on).
 */
function anonymous(res: Response, trace: Tracer): void {
  if (trace.enabled) trace.step('me.anonymous');
  res.status(401).type('json').send(ANONYMOUS);
}

/** Build the GET /me handler. */
export function meRoute(ctx: ParLoginContext) {
  const { config, clock } = ctx;
  const logoutUrl = config.basePath + config.paths.logout;
  return function me(req: Request, res: Response): void {
    res.set('Cache-Control', 'no-store');
    const user = sessionUser(req);
    if (user === undefined) return anonymous(res, config.trace);
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
