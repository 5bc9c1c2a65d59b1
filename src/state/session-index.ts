/**
 * The index that back-channel logout needs (OpenID Connect Back-Channel Logout 1.0 §2.7): the
 * sessions of each AS session (`sid`) and of each user (`sub`), kept in the shared state so that a
 * logout token received by any instance finds the sessions of every instance.
 *
 * @module
 */
import type { IdTokenClaims } from '../client/id-token.js';
import type { SharedState } from './shared-state.js';

/** One logged-in session, as indexed: its express-session id and its token record. */
export interface IndexedSession {
  readonly sessionId: string;
  readonly tokenRef: string;
}

/** Sessions by `sid` and by `sub`. */
export interface SessionIndex {
  /** Index a new login. */
  add(claims: IdTokenClaims, session: IndexedSession, ttlSeconds: number): Promise<void>;
  /** Forget a session that ended here (local logout). */
  remove(claims: IdTokenClaims, session: IndexedSession): Promise<void>;
  /** Take (and forget) every session of `sid`, of `sub`, or of both. */
  take(selector: { sid?: string; sub?: string }): Promise<IndexedSession[]>;
}

const keysOf = (selector: { sid?: unknown; sub?: unknown }): string[] => [
  ...(typeof selector.sid === 'string' ? [`bcl:sid:${selector.sid}`] : []),
  ...(typeof selector.sub === 'string' ? [`bcl:sub:${selector.sub}`] : []),
];
const member = (session: IndexedSession): string => `${session.sessionId} ${session.tokenRef}`;

/**
 * Build the index over the shared state. With `earlier` (the shared state under the session prefix,
 * where entries were written before the shared state had its own), `take` takes from both, so a
 * back-channel logout still reaches sessions logged in before an upgrade.
 */
export function createSessionIndex(shared: SharedState, earlier?: SharedState): SessionIndex {
  return {
    add: (claims, session, ttlSeconds) => shared.addToSets(keysOf(claims), member(session), ttlSeconds),
    remove: (claims, session) => shared.removeFromSets(keysOf(claims), member(session)),
    async take(selector) {
      const found = new Map<string, IndexedSession>();
      const stores = earlier === undefined ? [shared] : [shared, earlier];
      const taken = await Promise.all(
        keysOf(selector).flatMap((key) => stores.map((store) => store.takeSet(key))),
      );
      for (const entry of taken.flat()) {
        const [sessionId, tokenRef] = entry.split(' ');
        if (sessionId && tokenRef) found.set(entry, { sessionId, tokenRef });
      }
      return [...found.values()];
    },
  };
}
