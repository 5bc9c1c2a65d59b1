/**
 * GET /me: the logged-in user's claims as JSON, for a front end; 401 JSON when anonymous.
 * Protocol claims that mean nothing to a front end (`nonce`, hashes) are left out; no token is sent.
 *
 * @module
 */
import type { Request, Response } from 'express';
import { ParLoginError } from './errors.js';
import type { IdTokenClaims } from './id-token.js';
import { sessionUser } from './session.js';

const HIDDEN_CLAIMS = new Set(['nonce', 'at_hash', 'c_hash', 's_hash']);

/** The claims a front end may see. */
export function publicClaims(claims: IdTokenClaims): Record<string, unknown> {
  return Object.fromEntries(Object.entries(claims).filter(([name]) => !HIDDEN_CLAIMS.has(name)));
}

/** Build the GET /me handler. */
export function meRoute() {
  return async function me(req: Request, res: Response): Promise<void> {
    res.set('Cache-Control', 'no-store');
    const user = sessionUser(req);
    if (user === undefined) throw new ParLoginError('unauthenticated', 'Not logged in.');
    res.json({ claims: publicClaims(user.claims) });
  };
}
