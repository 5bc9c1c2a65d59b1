/**
 * How long and how hard the bench runs: the full defaults (about 9 minutes on 2 cores) or the
 * smoke mode (`--smoke` or `BENCH_SMOKE=1`: every scenario once, briefly, checked but not judged).
 *
 * @module
 */

/** The bench's knobs. */
export interface Settings {
  smoke: boolean;
  /** Rounds per scenario; each round runs every target once, side by side. */
  runs: number;
  /** Seconds per autocannon run. */
  duration: number;
  /** Seconds of warm-up per target before the first round. */
  warmup: number;
  /** Concurrent connections of autocannon. */
  connections: number;
  /** Complete logins per walk kind and round. */
  walks: number;
  /** Logged-in sessions created for the footprint scenario. */
  sessions: number;
  /** Abandoned logins for the footprint scenario. */
  abandoned: number;
  /** Logins made in a footprint process before its first reading (code loaded, JIT warm). */
  footprintWarmUp: number;
  /** Write CPU profiles of our apps (`--profile`) into bench/profiles/. */
  profile: boolean;
  /** Scenarios to run (`--only=login-start,logged-in`); all by default. */
  only: Set<string> | undefined;
}

/** Read the settings from the command line and the environment. */
export function readSettings(argv: string[], env: NodeJS.ProcessEnv): Settings {
  const smoke = argv.includes('--smoke') || env.BENCH_SMOKE === '1';
  const only = argv.find((arg) => arg.startsWith('--only='))?.slice('--only='.length);
  const common = {
    smoke,
    profile: argv.includes('--profile'),
    only: only ? new Set(only.split(',')) : undefined,
  };
  if (smoke)
    return {
      ...common,
      runs: 1,
      duration: 0.5,
      warmup: 0,
      connections: 4,
      walks: 2,
      sessions: 100,
      abandoned: 300,
      footprintWarmUp: 20,
    };
  return {
    ...common,
    runs: 5,
    duration: 3,
    warmup: 2,
    connections: 10,
    walks: 40,
    sessions: 10_000,
    abandoned: 50_000,
    footprintWarmUp: 200,
  };
}
