/**
 * Doctor check: this machine's clock against the AS's `Date` response header (RFC 9110 §6.6.1).
 * ID tokens and client assertions carry `iat`/`exp`; a clock off by more than the configured
 * tolerance makes them look expired or not yet valid.
 *
 * @module
 */
import type { ResolvedConfig } from '../config/resolve-config.js';
import { failed, passed, skipped, warned, type CheckResult } from './check.js';
import type { DiscoveryProbe } from './discovery-checks.js';

const NAME = 'Clock skew';

/**
 * The local clock's offset from the AS's, in ms (positive: this machine is ahead). The `Date`
 * header has whole seconds, so the AS's time lies in `[date, date + 1 s)` and the local one in
 * `[sentAt, receivedAt]`; the offset is 0 when the two intervals overlap, else the gap between them.
 *
 * @returns `undefined` when the response has no parseable `Date` header.
 */
export function clockOffsetMs(probe: DiscoveryProbe): number | undefined {
  const header = probe.response.headers.date;
  const date = Date.parse(Array.isArray(header) ? (header[0] ?? '') : (header ?? ''));
  if (Number.isNaN(date)) return undefined;
  if (probe.sentAt >= date + 1000) return probe.sentAt - (date + 1000);
  if (probe.receivedAt < date) return probe.receivedAt - date;
  return 0;
}

/** Compare the clocks; fails beyond `OIDC_CLOCK_TOLERANCE` seconds. */
export function checkClock(probe: DiscoveryProbe | undefined, config: ResolvedConfig): CheckResult {
  if (probe === undefined) return skipped(NAME, 'the AS did not answer');
  const offset = clockOffsetMs(probe);
  if (offset === undefined)
    return warned(
      NAME,
      'the AS sent no Date header: the skew cannot be measured',
      'Make sure this machine synchronizes its clock with NTP.',
    );
  const seconds = Math.round(Math.abs(offset) / 1000);
  const direction = offset > 0 ? 'ahead of' : 'behind';
  if (Math.abs(offset) <= config.clockToleranceSeconds * 1000) {
    return passed(
      NAME,
      offset === 0
        ? 'this machine agrees with the AS to the second'
        : `this machine is ${seconds} s ${direction} the AS (tolerance ${config.clockToleranceSeconds} s)`,
    );
  }
  return failed(
    NAME,
    `this machine is ${seconds} s ${direction} the AS, ` +
      `more than the ${config.clockToleranceSeconds} s tolerated: ID tokens would be refused`,
    'Synchronize the clock with NTP (e.g. timedatectl set-ntp true, or chrony); ' +
      'raising OIDC_CLOCK_TOLERANCE only hides the drift.',
  );
}
