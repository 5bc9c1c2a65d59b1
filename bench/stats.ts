/**
 * Summaries of repeated measurements: the median with the min–max range, and side-by-side ratios
 * (one ratio per round, target and reference measured in the same round).
 *
 * @module
 */

/** A set of repeated measurements of one quantity. */
export interface Summary {
  median: number;
  min: number;
  max: number;
  samples: number[];
}

/** Median, min and max of samples (NaN for none). */
export function summarize(samples: number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const median =
    sorted.length === 0
      ? Number.NaN
      : sorted.length % 2 === 1
        ? sorted[middle]!
        : (sorted[middle - 1]! + sorted[middle]!) / 2;
  return { median, min: sorted[0] ?? Number.NaN, max: sorted.at(-1) ?? Number.NaN, samples };
}

/** Per-round ratios `target[i] / reference[i]`, summarized. */
export function ratios(target: number[], reference: number[]): Summary {
  return summarize(target.map((value, i) => value / reference[i]!));
}

/** `1,234` style for large numbers, two significant decimals for small ones. */
export function formatNumber(value: number, digits = 0): string {
  if (!Number.isFinite(value)) return 'n/a';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** `median (min–max)`. */
export function formatSummary(summary: Summary, digits = 0, unit = ''): string {
  if (summary.samples.length <= 1) return `${formatNumber(summary.median, digits)}${unit}`;
  return `${formatNumber(summary.median, digits)}${unit} (${formatNumber(summary.min, digits)}–${formatNumber(summary.max, digits)})`;
}

/** Bytes as KiB/MiB. */
export function formatBytes(bytes: number): string {
  const abs = Math.abs(bytes);
  if (abs >= 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
  if (abs >= 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${Math.round(bytes)} B`;
}
