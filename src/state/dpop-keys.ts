/**
 * Which DPoP key a login's tokens are bound to (RFC 9449): the one place that decides it, for the
 * login start, the callback's code exchange, refreshes and API calls.
 *
 * - `dpop: 'instance'`: one key per instance, generated on first use and never stored.
 * - `dpop: 'session'`: a fresh key per login, stored sealed (AES-256-GCM, crypto/seal.ts) with the
 *   pending login and then with the session, so that any instance can prove possession.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-10 (dpop_jkt binds the code to the key)
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-5 (the token request proves the same key)
 * @module
 */
import { generateDpopKey, importDpopKey, newExportedDpopKey, type DpopKey } from '../client/dpop.js';
import type { DpopMode } from '../config/options.js';
import type { Sealer } from '../crypto/seal.js';

/**
 * A new login's key: its thumbprint, which the login pushes, and its sealed private JWK when the
 * login keeps a key of its own. The key itself is opened when it first signs, at the callback.
 */
export interface LoginDpopKey {
  readonly jkt: string;
  readonly sealed?: string;
}

/** An instance's DPoP keys. */
export interface DpopKeys {
  /** The key a new login binds its tokens to; `undefined` when DPoP is off. */
  forLogin(): Promise<LoginDpopKey | undefined>;
  /**
   * The key tokens were bound to: the `sealed` one kept with a pending login or a session, else the
   * instance's key. `undefined` when DPoP is off, or when no configured encryption key opens
   * `sealed` (SESSION_ENCRYPTION_KEY rotated away).
   */
  open(sealed: string | undefined): Promise<DpopKey | undefined>;
}

/** The DPoP keys of one instance, for `mode`. */
export function createDpopKeys(mode: DpopMode, sealer: Sealer): DpopKeys {
  let instanceKey: Promise<DpopKey> | undefined;
  const instance = (): Promise<DpopKey> => (instanceKey ??= generateDpopKey());
  return Object.freeze({
    async forLogin(): Promise<LoginDpopKey | undefined> {
      if (mode === 'instance') return { jkt: (await instance()).jkt };
      if (mode !== 'session') return undefined;
      const { jkt, exported } = newExportedDpopKey();
      return { jkt, sealed: sealer.seal(exported) };
    },
    async open(sealed: string | undefined): Promise<DpopKey | undefined> {
      if (sealed === undefined) return mode === 'instance' ? instance() : undefined;
      try {
        return await importDpopKey(sealer.open(sealed));
      } catch {
        return undefined;
      }
    },
  });
}
