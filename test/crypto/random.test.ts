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

  it('returns buffers of their own: no later draw, block refill or change to another alters a value', () => {
    // 600 × 16 bytes span more than two 4096-byte blocks: values held from the first block see the refills.
    const held: Buffer[] = [];
    const asDrawn: Buffer[] = [];
    for (let i = 0; i < 600; i += 1) {
      const value = randomBuffer(16);
      held.push(value);
      asDrawn.push(Buffer.from(value));
    }
    const changed = (): number => held.filter((value, index) => !value.equals(asDrawn[index]!)).length;
    expect(changed()).toBe(0);
    expect(new Set(held.map((value) => value.toString('hex'))).size).toBe(600);
    // Changing every other value changes none of the rest, nor what is drawn next.
    for (const [index, value] of held.entries()) if (index % 2 === 1) value.fill(0);
    expect(held.filter((value, index) => index % 2 === 0 && !value.equals(asDrawn[index]!))).toEqual([]);
    for (let i = 0; i < 300; i += 1) expect(randomBuffer(16).equals(Buffer.alloc(16))).toBe(false);
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
