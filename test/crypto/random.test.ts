/** The block-drawn random values: the right sizes, never the same bytes twice, across block refills. */
import { describe, expect, it } from '@jest/globals';
import { randomBuffer, randomToken } from '../../src/crypto/random.js';

describe('randomBuffer and randomToken', () => {
  it('hands out fresh bytes of the asked size, across many block refills', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 3000; i += 1) {
      const size = 1 + (i % 97);
      const value = randomBuffer(size);
      expect(value).toHaveLength(size);
      if (size >= 8) {
        expect(seen.has(value.toString('hex'))).toBe(false);
        seen.add(value.toString('hex'));
      }
    }
    expect(randomToken(32)).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(randomToken(16)).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  it('returns buffers of their own: changing one changes no later value', () => {
    const first = randomBuffer(16);
    first.fill(0);
    expect(randomBuffer(16).equals(Buffer.alloc(16))).toBe(false);
  });

  it('refuses sizes outside 1..4096 with a coded RangeError', () => {
    for (const size of [0, -1, 4097, 1.5])
      expect(() => randomBuffer(size)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }));
  });

  it('looks uniform: every byte value shows up in 64 KiB', () => {
    const counts = new Array<number>(256).fill(0);
    for (let i = 0; i < 16; i += 1) for (const byte of randomBuffer(4096)) counts[byte]! += 1;
    expect(Math.min(...counts)).toBeGreaterThan(150); // expected 256 each
    expect(Math.max(...counts)).toBeLessThan(380);
  });
});
