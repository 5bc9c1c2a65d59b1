/**
 * Side-by-side runs: every target is warmed up, then each round runs every target once (the order
 * rotating from round to round), so that a target and its reference always share the machine's
 * state of the moment and their ratio can be taken per round. A judged group (a target and its
 * references) runs back to back, in the opposite order every other round: the machine's load drifts
 * over a round (other tenants), and targets far apart in a long round saw different machines.
 *
 * @module
 */
import { load, loadProblems, type LoadResult, type LoadTarget } from './load.js';
import type { Report } from './report.js';
import type { Settings } from './settings.js';

/** Called around every run of a target (e.g. to sign a pool of client assertions). */
export interface RunHooks {
  before?(key: string, seconds: number): void;
  after?(key: string, result: LoadResult): void;
}

/**
 * The order of `keys` in round `round`: blocks rotating from round to round, each of `groups` one
 * block (reversed every other round), each other key a block of its own.
 */
export function roundOrder(keys: readonly string[], round: number, groups: ReadonlyArray<readonly string[]>) {
  const grouped = new Set(groups.flat());
  const blocks: string[][] = [
    ...groups.map((group) => (round % 2 === 0 ? [...group] : [...group].reverse())),
    ...keys.filter((key) => !grouped.has(key)).map((key) => [key]),
  ];
  const shift = round % blocks.length;
  return [...blocks.slice(shift), ...blocks.slice(0, shift)].flat();
}

/**
 * Warm up every target, then run `settings.runs` rounds; problems go to the report. Each of
 * `groups` (a target and its judged references) runs back to back (see the module comment).
 */
export async function runRounds(
  targets: Record<string, LoadTarget>,
  settings: Settings,
  report: Report,
  hooks: RunHooks = {},
  groups: ReadonlyArray<readonly string[]> = [],
): Promise<Record<string, LoadResult[]>> {
  const keys = Object.keys(targets);
  const results: Record<string, LoadResult[]> = Object.fromEntries(keys.map((key) => [key, []]));
  const run = async (key: string, seconds: number): Promise<LoadResult> => {
    hooks.before?.(key, seconds);
    const result = await load(targets[key]!, { connections: settings.connections, duration: seconds });
    hooks.after?.(key, result);
    const problem = loadProblems(targets[key]!, result);
    if (problem !== undefined) report.problem(problem);
    return result;
  };
  if (settings.warmup > 0) for (const key of keys) await run(key, settings.warmup);
  for (let round = 0; round < settings.runs; round += 1) {
    const order = roundOrder(keys, round, groups);
    for (const key of order) {
      const result = await run(key, settings.duration);
      results[key]!.push(result);
      log(`  round ${round + 1}: ${targets[key]!.label}: ${Math.round(result.rps)} req/s`);
    }
  }
  return results;
}

/** Progress on stderr, so that stdout carries only the results table. */
export function log(text: string): void {
  process.stderr.write(`${text}\n`);
}
