import { describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { createSealer, deriveKey } from '../../src/crypto/seal.js';

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

  it('uses a 32-byte base64url key as is and stretches anything else', () => {
    const raw = randomBytes(32);
    expect(deriveKey(raw.toString('base64url')).equals(raw)).toBe(true);
    const stretched = deriveKey('a passphrase of some length');
    expect(stretched).toHaveLength(32);
    expect(deriveKey('a passphrase of some length').equals(stretched)).toBe(true);
    expect(deriveKey('another passphrase here').equals(stretched)).toBe(false);
  });
});
