import { describe, expect, it } from '@jest/globals';
import { hkdfSync, randomBytes } from 'node:crypto';
import { createSealer, deriveKey } from '../../src/crypto/seal.js';

/** HKDF-SHA256 as RFC 5869 defines it, with the salt and info seal.ts uses: derivation, not stretching. */
const hkdf = (material: string): Buffer =>
  Buffer.from(hkdfSync('sha256', material, 'express-par-login', 'session token encryption v1', 32));

describe('sealing token material', () => {
  const key1 = randomBytes(32);
  const key2 = randomBytes(32);

  it('round-trips, with a fresh IV each time and no plaintext in the output', () => {
    const sealer = createSealer([key1]);
    const a = sealer.seal('refresh-token-value');
    const b = sealer.seal('refresh-token-value');
    expect(a).not.toBe(b);
    expect(a).not.toContain('refresh-token-value');
    expect(sealer.open(a)).toBe('refresh-token-value');
  });

  it('opens values sealed by an older key after rotation, and seals with the first key', () => {
    const old = createSealer([key1]).seal('x');
    const rotated = createSealer([key2, key1]);
    expect(rotated.open(old)).toBe('x');
    expect(() => createSealer([key1]).open(rotated.seal('y'))).toThrow();
  });

  it('refuses altered values', () => {
    const sealer = createSealer([key1]);
    const parts = sealer.seal('secret').split('.');
    parts[3] = Buffer.from('tampered!').toString('base64url');
    expect(() => sealer.open(parts.join('.'))).toThrow();
    expect(() => sealer.open('garbage')).toThrow(/unknown format/);
  });

  it('refuses a truncated authentication tag', () => {
    const sealer = createSealer([key1]);
    const parts = sealer.seal('secret', 'tokens:a').split('.');
    parts[4] = Buffer.from(parts[4]!, 'base64url').subarray(0, 12).toString('base64url');
    expect(() => sealer.open(parts.join('.'), 'tokens:a')).toThrow();
  });

  it('uses a 32-byte base64url key as is and derives anything else with HKDF-SHA256', () => {
    const raw = randomBytes(32);
    expect(deriveKey(raw.toString('base64url')).equals(raw)).toBe(true);
    const derived = deriveKey('a passphrase of some length');
    expect(derived).toHaveLength(32);
    expect(derived.equals(hkdf('a passphrase of some length'))).toBe(true);
    expect(deriveKey('a passphrase of some length').equals(derived)).toBe(true);
    expect(deriveKey('another passphrase here').equals(derived)).toBe(false);
  });
});

describe('sealing bound to a context', () => {
  const key = randomBytes(32);
  const sealer = createSealer([key]);

  it('opens only with the context it was sealed for', () => {
    const sealed = sealer.seal('tokens of alice', 'tokens:alice');
    expect(sealer.isBound(sealed)).toBe(true);
    expect(sealer.open(sealed, 'tokens:alice')).toBe('tokens of alice');
    expect(() => sealer.open(sealed, 'tokens:bob')).toThrow();
    expect(() => sealer.open(sealed)).toThrow();
    expect(() => createSealer([randomBytes(32), key]).open(sealed, 'tokens:bob')).toThrow();
  });

  it('does not open when relabelled as an unbound value to shed its context', () => {
    const sealed = sealer.seal('tokens of alice', 'tokens:alice');
    const relabelled = sealed.replace(/^v2\./, 'v1.');
    expect(relabelled).not.toBe(sealed);
    expect(() => sealer.open(relabelled, 'tokens:bob')).toThrow();
    expect(() => sealer.open(relabelled)).toThrow();
  });

  it('opens a value sealed without a context (as before contexts existed) whatever the context', () => {
    const legacy = sealer.seal('old record');
    expect(legacy.startsWith('v1.')).toBe(true);
    expect(sealer.isBound(legacy)).toBe(false);
    expect(sealer.open(legacy)).toBe('old record');
    expect(sealer.open(legacy, 'tokens:anyone')).toBe('old record');
  });
});
