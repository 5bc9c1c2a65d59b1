/**
 * What one doctor check found, and the helpers that build results. A check never throws: every
 * failure becomes a `fail` result with a fix the operator can act on.
 *
 * @module
 */

/**
 * How a check ended: `ok` passed; `warn` passed with a remark; `fail` failed (it has a fix);
 * `skip` could not run because an earlier check failed.
 */
export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';

/** One line of the doctor's report. */
export interface CheckResult {
  /** What was checked, e.g. `Issuer reachable`. */
  readonly name: string;
  readonly status: CheckStatus;
  /** What was found. Never contains a secret. */
  readonly detail: string;
  /** What to do about a `fail` or `warn`. */
  readonly fix?: string;
}

/** A passed check. */
export function passed(name: string, detail: string): CheckResult {
  return { name, status: 'ok', detail };
}

/** A check that passed with a remark worth reading. */
export function warned(name: string, detail: string, fix: string): CheckResult {
  return { name, status: 'warn', detail, fix };
}

/** A failed check, with the fix. */
export function failed(name: string, detail: string, fix: string): CheckResult {
  return { name, status: 'fail', detail, fix };
}

/** A check that did not run, and why. */
export function skipped(name: string, reason: string): CheckResult {
  return { name, status: 'skip', detail: reason };
}
