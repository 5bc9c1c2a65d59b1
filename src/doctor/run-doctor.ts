/**
 * The doctor: checks a deployment's configuration against the real authorization server and Redis
 * with the library's own code, and reports one line per check with a fix for each failure.
 *
 * Order: environment variables; issuer reachable; discovery consistent; PAR endpoint; client
 * authentication and redirect URI (one throw-away PAR push); Redis; clock skew. A check that
 * depends on a failed one is skipped, never guessed.
 *
 * @module
 */
import { createContext } from '../context.js';
import { skipped, type CheckResult } from './check.js';
import { checkClock } from './clock-check.js';
import { checkDiscovery, checkIssuerReachable, checkParEndpoint } from './discovery-checks.js';
import { checkEnvironment } from './environment-check.js';
import { checkParPush } from './par-push-check.js';
import { checkRedis } from './redis-check.js';

/** Options of {@link runDoctor}. */
export interface DoctorOptions {
  /** The local clock, epoch ms (the clock-skew check compares it with the AS's). @default Date.now */
  now?: () => number;
}

/** What the doctor found. */
export interface DoctorReport {
  /** One entry per line, in the order checked. */
  readonly results: readonly CheckResult[];
  /** True only when no check failed or was skipped. */
  readonly healthy: boolean;
}

const AFTER_CONFIG = [
  'Issuer reachable',
  'Discovery consistent',
  'PAR endpoint',
  'Client authentication',
  'Redirect URI',
  'Redis',
  'Clock skew',
];
const AFTER_ISSUER = ['Discovery consistent', 'PAR endpoint', 'Client authentication', 'Redirect URI'];

/**
 * Run every check against the environment's configuration. Never throws for a misconfiguration:
 * that is a failed check. The only request with an effect at the AS is one PAR push whose
 * `request_uri` expires unused.
 *
 * @param env The environment to read, as `parLogin()` would. @default process.env
 */
export async function runDoctor(
  env: NodeJS.ProcessEnv = process.env,
  options: DoctorOptions = {},
): Promise<DoctorReport> {
  const now = options.now ?? Date.now;
  const environment = checkEnvironment(env);
  const config = environment.config;
  if (config === undefined) {
    return report([
      ...environment.results,
      ...AFTER_CONFIG.map((name) => skipped(name, 'fix the environment variables first')),
    ]);
  }
  const ctx = createContext(config);
  try {
    const results: CheckResult[] = [...environment.results];
    const reachable = await checkIssuerReachable(ctx, now);
    results.push(reachable.result);
    if (reachable.result.status === 'fail') {
      results.push(...AFTER_ISSUER.map((name) => skipped(name, 'the issuer is not reachable')));
    } else {
      const discovery = await checkDiscovery(ctx, reachable.probe!);
      results.push(
        ...discovery.results,
        checkParEndpoint(discovery.metadata, config.par),
        ...(await checkParPush(ctx, discovery.metadata)),
      );
    }
    results.push(await checkRedis(config), checkClock(reachable.probe, config));
    return report(results);
  } finally {
    await ctx.close();
  }
}

function report(results: CheckResult[]): DoctorReport {
  return { results, healthy: results.every((result) => result.status === 'ok' || result.status === 'warn') };
}
