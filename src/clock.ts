/**
 * The clock: one per instance (on its context), read wherever a protocol step needs the time, so
 * that tests can move it (`jest.spyOn(ctx.clock, 'nowMs')`) and every step sees the same time.
 *
 * Units are in the names: epoch milliseconds (`nowMs`) for expiry times the middleware sets itself,
 * epoch seconds (`nowSeconds`, rounded down) for JWT claims (RFC 7519 §2 NumericDate) and token
 * lifetimes (RFC 6749 §5.1 `expires_in`).
 *
 * @see https://www.rfc-editor.org/rfc/rfc7519#section-2
 * @module
 */

/** A source of the current time. */
export interface Clock {
  /** Milliseconds since the epoch. */
  nowMs(): number;
  /** Whole seconds since the epoch (rounded down): a JWT NumericDate. */
  nowSeconds(): number;
}

/** A clock reading the system time; `nowSeconds` follows `nowMs`, so moving one moves both. */
export function systemClock(): Clock {
  return {
    nowMs: () => Date.now(),
    nowSeconds() {
      return Math.floor(this.nowMs() / 1000);
    },
  };
}
