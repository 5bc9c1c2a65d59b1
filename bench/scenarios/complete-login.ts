/**
 * Scenario 3, a complete login: the app's /login, the AS's login and consent pages, the callback
 * with its token exchange, one after another with a fresh browser each time; against the same walk
 * driven directly at the AS (PAR, pages and token request by hand), and against the floor: an app
 * that does the protocol steps and nothing else (apps.ts), the least any app costs on this walk.
 * Walk kinds alternate, so each round's ratio compares logins made side by side.
 *
 * @module
 */
import { performance } from 'node:perf_hooks';
import type { Child } from '../children.js';
import { discoverEndpoints } from '../discovery.js';
import type { Report } from '../report.js';
import { log } from '../rounds.js';
import type { Settings } from '../settings.js';
import { startStack } from '../stack.js';
import { formatSummary, ratios, summarize } from '../stats.js';
import { loginDirectly, loginThroughApp } from '../walks.js';

const SCENARIO = '3. Complete login';

interface Walk {
  label: string;
  run(): Promise<unknown>;
  /** The app whose CPU is measured. */
  app?: Child;
}

/** Run scenario 3 and add its rows. */
export async function completeLogin(
  settings: Settings,
  report: Report,
  cpuProfileDir: string | undefined,
): Promise<void> {
  log(`${SCENARIO}: starting the AS and the apps`);
  const stack = await startStack(['ours-basic', 'eoc-basic', 'floor'], { cpuProfileDir });
  try {
    const apps = stack.apps as Required<typeof stack.apps>;
    const as = await discoverEndpoints(stack.issuer);
    const walks: Record<string, Walk> = {
      direct: {
        label: 'AS-only walk: PAR + authorize + login/consent forms + token, by hand',
        run: () => loginDirectly(as, stack.credentials.oursBasic, `${apps['ours-basic'].url}/callback`),
      },
      ours: {
        label: 'ours: /login → AS forms → /callback (token, ID token, session)',
        run: () => loginThroughApp(apps['ours-basic'].url, stack.issuer, 303),
        app: apps['ours-basic'],
      },
      eoc: {
        label: 'express-openid-connect: /login → AS forms → /callback',
        run: () => loginThroughApp(apps['eoc-basic'].url, stack.issuer, 302),
        app: apps['eoc-basic'],
      },
      floor: {
        label:
          'floor: an app doing the protocol steps alone (push + redirect, code exchange + redirect; no check, no session)',
        run: () => loginThroughApp(apps.floor.url, stack.issuer, 303),
        app: apps.floor,
      },
    };
    const keys = Object.keys(walks);
    // Warm-up as long as one round: discovery, JWKS, connection pools, and the JIT's optimized code.
    for (let i = 0; i < settings.walks; i += 1) for (const key of keys) await walks[key]!.run();

    const ms: Record<string, number[]> = Object.fromEntries(keys.map((key) => [key, []]));
    const cpu: Record<string, number[]> = Object.fromEntries(keys.map((key) => [key, []]));
    for (let round = 0; round < settings.runs; round += 1) {
      const spent: Record<string, number> = Object.fromEntries(keys.map((key) => [key, 0]));
      const cpuSpent: Record<string, number> = Object.fromEntries(keys.map((key) => [key, 0]));
      for (let i = 0; i < settings.walks; i += 1) {
        for (const key of [...keys.slice(i % keys.length), ...keys.slice(0, i % keys.length)]) {
          const walk = walks[key]!;
          const before = await walk.app?.call('cpu');
          const start = performance.now();
          try {
            await walk.run();
          } catch (err) {
            report.problem(`${SCENARIO}: ${walk.label}: ${(err as Error).message}`);
          }
          spent[key]! += performance.now() - start;
          const after = await walk.app?.call('cpu');
          if (before && after) cpuSpent[key]! += after.user + after.system - before.user - before.system;
        }
      }
      for (const key of keys) {
        ms[key]!.push(spent[key]! / settings.walks);
        cpu[key]!.push(cpuSpent[key]! / settings.walks);
      }
      log(
        `  round ${round + 1}: ${keys.map((key) => `${key} ${(spent[key]! / settings.walks).toFixed(1)} ms`).join(', ')}`,
      );
    }

    report.add({
      scenario: SCENARIO,
      measurement: walks.direct!.label,
      result: `${formatSummary(summarize(ms.direct!), 1, ' ms')} per login`,
    });
    for (const key of ['floor', 'ours', 'eoc']) {
      const ratio = ratios(ms[key]!, ms.direct!);
      const floorRatio = ratios(ms[key]!, ms.floor!);
      const overFloor = key === 'floor' ? '' : `; ${formatSummary(floorRatio, 2, '×')} floor`;
      report.add({
        scenario: SCENARIO,
        measurement: walks[key]!.label,
        result: `${formatSummary(summarize(ms[key]!), 1, ' ms')} per login; app CPU ${formatSummary(summarize(cpu[key]!), 0, ' µs')}`,
        ratio: `${formatSummary(ratio, 2, '×')} AS-only walk${overFloor}`,
        // Judged against the floor measured in the same rounds (issue 18): the AS-only walk lacks the two
        // HTTP hops any app adds, which cost about what the earlier 1.25× target allowed.
        ...(key === 'ours' ? { target: { text: '≤ 1.05× floor', pass: floorRatio.median <= 1.05 } } : {}),
      });
    }
    report.note(
      `${SCENARIO}: ${settings.walks} logins of each kind per round (after as many for warm-up), sequential, alternating kinds; ` +
        "each with a fresh browser (so the AS asks for login and consent every time). The app walks end at the callback's redirect " +
        '(the page after it is not fetched). App CPU is process-wide (all threads) per login.',
    );
  } finally {
    await stack.stop();
  }
}
