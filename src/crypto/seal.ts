/**
 * Token material at rest: sealed with AES-256-GCM (an authenticated cipher, NIST SP 800-38D) under
 * a key ring. The first key seals; every key opens, so keys can be rotated by putting the new one
 * first and keeping the old ones until the sessions they sealed have expired.
 *
 * @module
 */
import { createCipheriv, createDecipheriv, createHash, hkdfSync } from 'node:crypto';
import { randomBuffer } from './random.js';
import { invalidArgument } from '../errors.js';

/** Seals and opens strings. */
export interface Sealer {
  seal(plain: string): string;
  /** @throws {Error} when no key of the ring opens `sealed` or it was altered. */
  open(sealed: string): string;
}

const VERSION = 'v1';
const IV_BYTES = 12;

/**
 * Turn a configured key into 32 bytes: a base64url/base64 string of exactly 32 bytes is used as
 * is; anything else (a passphrase, the session secret) goes through HKDF-SHA256.
 */
export function deriveKey(material: string): Buffer {
  const decoded = /^[A-Za-z0-9_\-+/]{43}=?$/.test(material) ? Buffer.from(material, 'base64url') : undefined;
  if (decoded?.length === 32) return decoded;
  return Buffer.from(hkdfSync('sha256', material, 'express-par-login', 'session token encryption v1', 32));
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
    seal(plain) {
      const iv = randomBuffer(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', current.key, iv);
      cipher.setAAD(Buffer.from(`${VERSION}.${current.id}`));
      const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return [
        VERSION,
        current.id,
        iv.toString('base64url'),
        body.toString('base64url'),
        cipher.getAuthTag().toString('base64url'),
      ].join('.');
    },
    open(sealed) {
      const [version, id, iv, body, tag] = sealed.split('.');
      const entry = ring.find((candidate) => candidate.id === id);
      if (
        version !== VERSION ||
        entry === undefined ||
        iv === undefined ||
        body === undefined ||
        tag === undefined
      ) {
        throw new Error('sealed value has an unknown format or key');
      }
      const decipher = createDecipheriv('aes-256-gcm', entry.key, Buffer.from(iv, 'base64url'));
      decipher.setAAD(Buffer.from(`${VERSION}.${entry.id}`));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString(
        'utf8',
      );
    },
  };
}
