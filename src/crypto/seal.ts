/**
 * Token material at rest: sealed with AES-256-GCM (an authenticated cipher, NIST SP 800-38D) under
 * a key ring. The first key seals; every key opens, so keys can be rotated by putting the new one
 * first and keeping the old ones until the sessions they sealed have expired.
 *
 * A value can be bound to a context (for the token vault, the record's reference): the context is
 * part of the additional authenticated data, so a sealed value copied to another place does not
 * open there. The context is not stored in the sealed value; the reader supplies it.
 *
 * Formats (`.`-separated, base64url parts): `v1.<key id>.<iv>.<ciphertext>.<tag>` with the AAD
 * `v1.<key id>` (no context: values sealed before contexts existed, and DPoP keys), and
 * `v2.<key id>.<iv>.<ciphertext>.<tag>` with the AAD `v2.<key id>.<context>`. The version and key
 * id are authenticated too, so a `v2` value relabelled `v1` (to shed its context) does not open.
 *
 * @see https://nvlpubs.nist.gov/nistpubs/Legacy/SP/nistspecialpublication800-38d.pdf
 * @module
 */
import { createCipheriv, createDecipheriv, createHash, hkdfSync } from 'node:crypto';
import { randomBuffer } from './random.js';
import { invalidArgument } from '../errors.js';

/** Seals and opens strings. */
export interface Sealer {
  /** Seal `plain`, bound to `context` when given (then only a reader naming the same context opens it). */
  seal(plain: string, context?: string): string;
  /**
   * Open a sealed value. A value bound to a context opens only with that `context`; a value sealed
   * without one opens whatever `context` is given (see {@link Sealer.isBound}).
   * @throws {Error} when no key of the ring opens `sealed`, it was altered, or its context differs.
   */
  open(sealed: string, context?: string): string;
  /** Whether `sealed` is bound to a context (`false` for values sealed without one, as all were before v2). */
  isBound(sealed: string): boolean;
}

const UNBOUND = 'v1';
const BOUND = 'v2';
const IV_BYTES = 12;

/**
 * Turn a configured key into 32 bytes: a base64url/base64 string of exactly 32 bytes is used as
 * is; anything else (a passphrase, the session secret) is derived with HKDF-SHA256. HKDF has no
 * work factor: it does not stretch a passphrase, which gets no extra protection against guessing.
 * Configure 32 random bytes.
 *
 * @see https://www.rfc-editor.org/rfc/rfc5869#section-3.3
 */
export function deriveKey(material: string): Buffer {
  const decoded = /^[A-Za-z0-9_\-+/]{43}=?$/.test(material) ? Buffer.from(material, 'base64url') : undefined;
  if (decoded?.length === 32) return decoded;
  return Buffer.from(hkdfSync('sha256', material, 'express-par-login', 'session token encryption v1', 32));
}

/** The additional authenticated data of a value: its version and key id, and its context when bound. */
function aad(version: string, keyId: string, context: string | undefined): Buffer {
  return Buffer.from(version === BOUND ? `${version}.${keyId}.${context ?? ''}` : `${version}.${keyId}`);
}

/** Create a sealer over a key ring (first key seals). */
export function createSealer(keys: readonly Buffer[]): Sealer {
  const ring = keys.map((key) => ({
    key,
    id: createHash('sha256').update(key).digest('base64url').slice(0, 8),
  }));
  const [current] = ring;
  if (current === undefined) throw invalidArgument('createSealer needs at least one key');
  return {
    seal(plain, context) {
      const version = context === undefined ? UNBOUND : BOUND;
      const iv = randomBuffer(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', current.key, iv);
      cipher.setAAD(aad(version, current.id, context));
      const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return [
        version,
        current.id,
        iv.toString('base64url'),
        body.toString('base64url'),
        cipher.getAuthTag().toString('base64url'),
      ].join('.');
    },
    open(sealed, context) {
      const [version, id, iv, body, tag, extra] = sealed.split('.');
      const entry = ring.find((candidate) => candidate.id === id);
      if (
        (version !== UNBOUND && version !== BOUND) ||
        entry === undefined ||
        iv === undefined ||
        body === undefined ||
        tag === undefined ||
        extra !== undefined
      ) {
        throw new Error('sealed value has an unknown format or key');
      }
      // A full 16-byte tag only: GCM would otherwise accept a truncated tag, far easier to forge.
      const decipher = createDecipheriv('aes-256-gcm', entry.key, Buffer.from(iv, 'base64url'), {
        authTagLength: 16,
      });
      decipher.setAAD(aad(version, entry.id, context));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString(
        'utf8',
      );
    },
    isBound: (sealed) => sealed.startsWith(`${BOUND}.`),
  };
}
