/**
 * The caps on login starts (state/login-rate.ts): a global and a per-client cap over a sliding
 * minute, IPv6 clients by /64, and a bounded number of tracked clients.
 */
import { describe, expect, it } from '@jest/globals';
import { clientKey, createLoginRate, MAX_TRACKED_CLIENTS } from '../../src/state/login-rate.js';

const MINUTE = 60_000;
/** The start of a minute, far from epoch 0. */
const T0 = 1_000 * MINUTE;

/** How many of `count` starts by `ip` at `nowMs` are let through. */
function admitted(
  rate: ReturnType<typeof createLoginRate>,
  ip: string,
  count: number,
  nowMs: number,
): number {
  let passed = 0;
  for (let i = 0; i < count; i++) if (rate.take(ip, nowMs) === undefined) passed += 1;
  return passed;
}

describe('createLoginRate', () => {
  it('lets a client start its cap per minute and refuses the next, with the seconds left in the window', () => {
    const rate = createLoginRate({ perMinute: 0, perClientPerMinute: 3 });
    expect(admitted(rate, '203.0.113.7', 3, T0 + 15_000)).toBe(3);
    expect(rate.take('203.0.113.7', T0 + 15_000)).toEqual({
      cap: 'client',
      limitPerMinute: 3,
      retryAfterSeconds: 45,
    });
    expect(rate.take('198.51.100.1', T0 + 15_000)).toBeUndefined(); // another client is not held back
  });

  it('holds every client to the global cap', () => {
    const rate = createLoginRate({ perMinute: 5, perClientPerMinute: 100 });
    for (let i = 0; i < 5; i++) expect(rate.take(`192.0.2.${i}`, T0)).toBeUndefined();
    expect(rate.take('192.0.2.200', T0)).toMatchObject({
      cap: 'all',
      limitPerMinute: 5,
      retryAfterSeconds: 60,
    });
  });

  it('counts the previous minute by how much of it is still within the last minute', () => {
    const rate = createLoginRate({ perMinute: 0, perClientPerMinute: 10 });
    expect(admitted(rate, '192.0.2.1', 10, T0 + 59_000)).toBe(10);
    // 15 s into the next minute, 3/4 of the previous minute's 10 still count (7.5): 3 more fit, not 10.
    expect(admitted(rate, '192.0.2.1', 10, T0 + MINUTE + 15_000)).toBe(3);
    // Two minutes later nothing of those counts.
    expect(admitted(rate, '192.0.2.1', 20, T0 + 3 * MINUTE)).toBe(10);
  });

  it('does not count refused starts', () => {
    const rate = createLoginRate({ perMinute: 0, perClientPerMinute: 2 });
    expect(admitted(rate, '192.0.2.1', 50, T0)).toBe(2);
    // Half a minute later half of the 2 admitted still count: one more fits (the 48 refused did not count).
    expect(admitted(rate, '192.0.2.1', 5, T0 + MINUTE + 30_000)).toBe(1);
  });

  it('turns a cap off with 0', () => {
    const rate = createLoginRate({ perMinute: 0, perClientPerMinute: 0 });
    expect(admitted(rate, '192.0.2.1', 10_000, T0)).toBe(10_000);
  });

  it('counts the addresses of one IPv6 /64 as one client, and an IPv4-mapped address as the IPv4 one', () => {
    const rate = createLoginRate({ perMinute: 0, perClientPerMinute: 2 });
    expect(rate.take('2001:db8:1:2::1', T0)).toBeUndefined();
    expect(rate.take('2001:db8:1:2:ffff:ffff:ffff:ffff', T0)).toBeUndefined();
    expect(rate.take('2001:0db8:0001:0002:abcd::9', T0)).toMatchObject({ cap: 'client' });
    expect(rate.take('2001:db8:1:3::1', T0)).toBeUndefined();
    expect(rate.take('192.0.2.9', T0)).toBeUndefined();
    expect(rate.take('::ffff:192.0.2.9', T0)).toBeUndefined();
    expect(rate.take('::FFFF:192.0.2.9', T0)).toMatchObject({ cap: 'client' });
  });

  it('holds an unknown address to the global cap alone', () => {
    const rate = createLoginRate({ perMinute: 3, perClientPerMinute: 1 });
    expect(admitted(rate, 'not an address', 5, T0)).toBe(3);
  });

  it(`tracks at most ${MAX_TRACKED_CLIENTS} clients, and forgets them once they are idle`, () => {
    const rate = createLoginRate({ perMinute: 0, perClientPerMinute: 1 });
    for (let i = 0; i < MAX_TRACKED_CLIENTS; i++)
      rate.take(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, T0);
    // The table is full: a new client is not tracked (held to the global cap alone, here none).
    expect(admitted(rate, '172.16.0.1', 3, T0)).toBe(3);
    expect(rate.take('10.0.0.0', T0)).toMatchObject({ cap: 'client' });
    // Two minutes later the idle clients are forgotten and the new one is tracked again.
    expect(admitted(rate, '172.16.0.1', 3, T0 + 2 * MINUTE)).toBe(1);
  });
});

describe('clientKey', () => {
  it.each([
    ['192.0.2.1', '192.0.2.1'],
    ['::ffff:192.0.2.1', '192.0.2.1'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['2001:0db8:00a0:0000:1::', '2001:db8:a0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    ['fe80::1%eth0', 'fe80:0:0:0::/64'],
    ['', undefined],
    ['example.com', undefined],
    [undefined, undefined],
  ])('counts %s as %s', (ip, key) => {
    expect(clientKey(ip)).toBe(key);
  });
});
