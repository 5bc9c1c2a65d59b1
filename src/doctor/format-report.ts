/**
 * The doctor's report as text: one line per check, its status first, the fix indented below a
 * failure or warning, and a count at the end.
 *
 * @module
 */
import type { CheckStatus } from './check.js';
import type { DoctorReport } from './run-doctor.js';

const LABELS: Readonly<Record<CheckStatus, string>> = {
  ok: 'ok  ',
  warn: 'warn',
  fail: 'FAIL',
  skip: 'skip',
};

/** Render a report for a terminal (plain text, no colors, so that logs and CI keep it readable). */
export function formatReport(report: DoctorReport): string {
  const lines: string[] = [];
  for (const { name, status, detail, fix } of report.results) {
    lines.push(`  ${LABELS[status]}  ${name}: ${detail}`);
    if (fix !== undefined && status !== 'ok') lines.push(`        fix: ${fix}`);
  }
  const count = (status: CheckStatus): number =>
    report.results.filter((result) => result.status === status).length;
  lines.push(
    '',
    `${report.results.length} checks: ${count('ok') + count('warn')} passed, ` +
      `${count('fail')} failed, ${count('skip')} skipped.${report.healthy ? ' All good.' : ''}`,
  );
  return `${lines.join('\n')}\n`;
}
