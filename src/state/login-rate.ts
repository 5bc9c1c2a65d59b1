/**
 * Caps on login starts: every login start is an authenticated push to the AS (RFC 9126 §2) and an
 * entry in the shared state, so a flood of anonymous `/login` requests would grow the store and
 * spend the client's PAR rate limit at the AS for every user. Each instance sheds starts beyond a
 * global and a per-client-IP rate, counted over a sliding minute (two fixed one-minute windows, the
 * previous one weighted by how much of it still falls inside the last minute).
 *
 * The counts are kept in this instance's memory: they cost no store round trip on the login path
 * and hold no state an attacker can grow without bound (at most {@link MAX_TRACKED_CLIENTS} client
 * keys, dropped a minute after their last start). With several instances each one counts its own
 * starts. A login start bounds pending logins: at most the rate times a pending login's lifetime
 * (its `request_uri`'s lifetime plus `loginGraceSeconds`).
 *
 * IPv6 clients are counted by their /64 prefix, the block one subscriber usually holds; IPv4-mapped
 * IPv6 addresses as the IPv4 address.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9126#section-7.4
 * @see https://www.rfc-editor.org/rfc/rfc9700#section-4.16
 * @module
 */
import { isIPv4, isIPv6 } from 'node:net';

/** The length of one counting window. */
const WINDOW_MS = 60_000;

/** The most client keys counted at once; beyond, a new client is held to the global cap alone. */
export const MAX_TRACKED_CLIENTS = 100_000;

/** The caps, in login starts per minute; 0 turns a cap off. */
export interface LoginRateLimits {
  readonly perMinute: number;
  readonly perClientPerMinute: number;
}

/** A start refused: which cap was reached, and the seconds until a retry may succeed (`Retry-After`). */
export interface LoginRateRefusal {
  readonly cap: 'all' | 'client';
  readonly limitPerMinute: number;
  readonly retryAfterSeconds: number;
}

/** Counts login starts and says whether one more may start. */
export interface LoginRate {
  /**
   * Count a login start by the client at `ip` at `nowMs`, unless a cap is reached.
   *
   * @returns `undefined` when the start may go on, else why not.
   */
  take(ip: string | undefined, nowMs: number): LoginRateRefusal | undefined;
}

/** Starts in the current window and the one before it. */
interface Counter {
  window: number;
  current: number;
  previous: number;
}

/** Move `counter` to `window`, carrying the current count over as the previous one when adjacent. */
function advance(counter: Counter, window: number): void {
  if (counter.window === window) return;
  counter.previous = counter.window === window - 1 ? counter.current : 0;
  counter.current = 0;
  counter.window = window;
}

/** The starts of the last minute as `counter` estimates them at `nowMs` (already advanced). */
function estimate(counter: Counter, nowMs: number): number {
  const elapsed = (nowMs % WINDOW_MS) / WINDOW_MS;
  return counter.previous * (1 - elapsed) + counter.current;
}

/** A refusal by `cap`, to be retried when the current window ends (the estimate has then fallen the most). */
function refusal(cap: LoginRateRefusal['cap'], limitPerMinute: number, nowMs: number): LoginRateRefusal {
  const retryAfterSeconds = Math.max(1, Math.ceil((WINDOW_MS - (nowMs % WINDOW_MS)) / 1000));
  return { cap, limitPerMinute, retryAfterSeconds };
}

/**
 * The key a client is counted under: an IPv4 address, or the /64 prefix of an IPv6 address, or
 * `undefined` when there is no usable address.
 */
export function clientKey(ip: string | undefined): string | undefined {
  if (ip === undefined) return undefined;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return mapped[1];
  if (isIPv4(ip)) return ip;
  if (!isIPv6(ip)) return undefined;
  const address = ip.replace(/%.*$/, '').toLowerCase(); // drop a zone index
  const [head = '', tail] = address.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return `${groups
    .slice(0, 4)
    .map((group) => group.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

/** Create the counters of one instance. */
export function createLoginRate(limits: LoginRateLimits): LoginRate {
  const all: Counter = { window: 0, current: 0, previous: 0 };
  const clients = new Map<string, Counter>();
  let swept = 0;

  /** Once per window, forget the clients that started nothing in the last two windows. */
  function sweep(window: number): void {
    if (swept === window) return;
    swept = window;
    for (const [key, counter] of clients) if (counter.window < window - 1) clients.delete(key);
  }

  function clientCounter(ip: string | undefined, window: number): Counter | undefined {
    if (limits.perClientPerMinute === 0) return undefined;
    const key = clientKey(ip);
    if (key === undefined) return undefined;
    let counter = clients.get(key);
    if (counter === undefined && clients.size < MAX_TRACKED_CLIENTS) {
      counter = { window, current: 0, previous: 0 };
      clients.set(key, counter);
    }
    return counter;
  }

  return {
    take(ip, nowMs) {
      const window = Math.floor(nowMs / WINDOW_MS);
      sweep(window);
      advance(all, window);
      if (limits.perMinute > 0 && estimate(all, nowMs) >= limits.perMinute)
        return refusal('all', limits.perMinute, nowMs);
      const client = clientCounter(ip, window);
      if (client !== undefined) {
        advance(client, window);
        if (estimate(client, nowMs) >= limits.perClientPerMinute)
          return refusal('client', limits.perClientPerMinute, nowMs);
        client.current += 1;
      }
      all.current += 1;
      return undefined;
    },
  };
}
