/**
 * The token vault: each logged-in session's {@link TokenSet}, encrypted (AES-256-GCM, see
 * `seal.ts`), kept in the shared state under a random reference the session holds — not inside the
 * session itself. So a request that saves its session can never write back tokens that a refresh
 * on another request (or instance) has rotated since, and the session the store loads on every
 * request stays small.
 *
 * Each record is sealed bound to its key without the configured prefix (`tokens:<ref>`): someone
 * who can write to the store cannot move a record under another session's reference (swap users'
 * tokens); it would not open there. Records written by versions before the binding (sealed
 * unbound) still open, once: the first read rewrites them bound (with a compare-and-set, keeping
 * their lifetime, so a concurrent refresh is never overwritten). Those not read again expire with
 * their session (`sessionAbsoluteTimeout`), so the unbound window closes by itself.
 *
 * A refresh replaces a record only if it still is the one the refresh started from
 * ({@link TokenVault.replace}): see access-token.ts.
 *
 * Records are sealed where the shared state is outside the process (Redis). In this process's own
 * memory they are kept as plain JSON: the key that would seal them is in the same memory, so sealing
 * would protect nothing there, and it made each logged-in session's record about a third larger
 * (base64 of the ciphertext) and each read decrypt.
 *
 * @module
 */
import { randomToken } from '../crypto/random.js';
import type { Sealer } from '../crypto/seal.js';
import type { SharedState } from './shared-state.js';
import type { TokenSet } from '../client/token.js';

/** A record as read: its tokens, and the version a conditional {@link TokenVault.replace} compares. */
export interface VaultRecord {
  readonly tokens: TokenSet;
  /**
   * Opaque: changes on every write that changes the tokens (and, sealed, on every write: each draws
   * a fresh IV). Never log it.
   */
  readonly version: string;
}

/** Encrypted token records in the shared state. */
export interface TokenVault {
  /** A fresh, unguessable reference for a new record. */
  newReference(): string;
  /** The tokens of `ref`, or `undefined` when gone (expired, removed) or sealed with a retired key. */
  read(ref: string): Promise<TokenSet | undefined>;
  /** {@link TokenVault.read} with the record's version, for a later {@link TokenVault.replace}. */
  readRecord(ref: string): Promise<VaultRecord | undefined>;
  /** Store `tokens` under `ref` for `ttlSeconds`, whatever was there (a new record). */
  write(ref: string, tokens: TokenSet, ttlSeconds: number): Promise<void>;
  /**
   * Store `tokens` under `ref` for `ttlSeconds` only if the record still is `seen` (compare-and-set
   * on the one key): `false`, storing nothing, when another writer replaced or removed it since.
   */
  replace(ref: string, seen: VaultRecord, tokens: TokenSet, ttlSeconds: number): Promise<boolean>;
  /** Remove the record of `ref`. */
  remove(ref: string): Promise<void>;
}

/** The record's key, without the configured prefix; also the context each record is sealed to. */
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

/**
 * Where records written before the shared state had its own prefix still are (under the session
 * prefix), and how long a record moved from there lives.
 */
export interface EarlierVault {
  readonly shared: SharedState;
  readonly ttlSeconds: number;
}

/**
 * Build the vault over the shared state. With `earlier`, a record missing here is looked for there
 * and moved here (sessions logged in before an upgrade keep their tokens).
 *
 * @param sealer Seals the records; `undefined` keeps them as plain JSON (for the in-memory shared
 *   state only: see the module comment).
 */
export function createTokenVault(
  shared: SharedState,
  sealer: Sealer | undefined,
  earlier?: EarlierVault,
): TokenVault {
  const seal = (ref: string, tokens: TokenSet): string =>
    sealer === undefined ? JSON.stringify(tokens) : sealer.seal(JSON.stringify(tokens), key(ref));
  const open = (ref: string, sealed: string): TokenSet | undefined => {
    try {
      const json = sealer === undefined ? sealed : sealer.open(sealed, key(ref));
      return upgraded(JSON.parse(json) as TokenSet & LegacyTokenSet);
    } catch {
      return undefined; // sealed under a key no longer configured, or for another reference
    }
  };
  const stored = async (ref: string): Promise<string | undefined> => {
    const here = await shared.get(key(ref));
    if (here !== undefined || earlier === undefined) return here;
    const there = await earlier.shared.get(key(ref));
    if (there === undefined) return undefined;
    await shared.set(key(ref), there, earlier.ttlSeconds);
    await earlier.shared.delete(key(ref));
    return there;
  };
  const readRecord = async (ref: string, rebind = true): Promise<VaultRecord | undefined> => {
    const sealed = await stored(ref);
    const tokens = sealed === undefined ? undefined : open(ref, sealed);
    if (sealed === undefined || tokens === undefined) return undefined;
    if (!rebind || sealer === undefined || sealer.isBound(sealed)) return { tokens, version: sealed };
    const bound = seal(ref, tokens);
    try {
      if (await shared.compareAndSet(key(ref), sealed, bound)) return { tokens, version: bound };
    } catch {
      return { tokens, version: sealed }; // rewritten on a later read
    }
    return readRecord(ref, false); // another reader or a refresh wrote it meanwhile: theirs stands
  };
  return {
    newReference: () => randomToken(16),
    read: async (ref) => (await readRecord(ref))?.tokens,
    readRecord: (ref) => readRecord(ref),
    write: (ref, tokens, ttlSeconds) => shared.set(key(ref), seal(ref, tokens), ttlSeconds),
    replace: (ref, seen, tokens, ttlSeconds) =>
      shared.compareAndSet(key(ref), seen.version, seal(ref, tokens), ttlSeconds),
    remove: (ref) => shared.delete(key(ref)),
  };
}
