/**
 * The token vault: each logged-in session's {@link TokenSet}, encrypted (AES-256-GCM, see
 * `seal.ts`), kept in the shared state under a random reference the session holds — not inside the
 * session itself. So a request that saves its session can never write back tokens that a refresh
 * on another request (or instance) has rotated since, and the session the store loads on every
 * request stays small.
 *
 * @module
 */
import { randomToken } from '../crypto/random.js';
import type { Sealer } from '../crypto/seal.js';
import type { SharedState } from './shared-state.js';
import type { TokenSet } from '../client/token.js';

/** Encrypted token records in the shared state. */
export interface TokenVault {
  /** A fresh, unguessable reference for a new record. */
  newReference(): string;
  /** The tokens of `ref`, or `undefined` when gone (expired, removed) or sealed with a retired key. */
  read(ref: string): Promise<TokenSet | undefined>;
  /** Store `tokens` under `ref` for `ttlSeconds`. */
  write(ref: string, tokens: TokenSet, ttlSeconds: number): Promise<void>;
  /** Remove the record of `ref`. */
  remove(ref: string): Promise<void>;
}

const key = (ref: string): string => `tokens:${ref}`;

/** A token record written before the expiry's name carried its unit. */
interface LegacyTokenSet {
  readonly expiresAt?: number;
}

/** A record as this version names it: `expiresAt` (epoch seconds, 0.1.x) becomes `expiresAtSeconds`. */
function upgraded(tokens: TokenSet & LegacyTokenSet): TokenSet {
  if (tokens.expiresAt === undefined) return tokens;
  const { expiresAt, ...rest } = tokens;
  return { ...rest, expiresAtSeconds: tokens.expiresAtSeconds ?? expiresAt };
}

/** Build the vault over the shared state. */
export function createTokenVault(shared: SharedState, sealer: Sealer): TokenVault {
  return {
    newReference: () => randomToken(16),
    async read(ref) {
      const sealed = await shared.get(key(ref));
      if (sealed === undefined) return undefined;
      try {
        return upgraded(JSON.parse(sealer.open(sealed)) as TokenSet & LegacyTokenSet);
      } catch {
        return undefined; // sealed under a key no longer configured
      }
    },
    write: (ref, tokens, ttlSeconds) => shared.set(key(ref), sealer.seal(JSON.stringify(tokens)), ttlSeconds),
    remove: (ref) => shared.delete(key(ref)),
  };
}
