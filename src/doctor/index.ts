/**
 * `express-par-login/doctor`: the doctor's programmatic API, for deployment checks in an app's
 * own start-up or health tooling. The same checks run from the command line as
 * `npx express-par-login doctor`.
 *
 * @packageDocumentation
 */
export { runDoctor, type DoctorOptions, type DoctorReport } from './run-doctor.js';
export type { CheckResult, CheckStatus } from './check.js';
export { formatReport } from './format-report.js';
