/**
 * Scenario 4, footprint on the server: heap and RSS (after a full GC) and session-store keys of a
 * fresh app process after N logged-in sessions, and of another after M abandoned logins (a
 * `/login` whose user never comes back). Both are driven against the scripted AS, which answers
 * PAR, authorization and token requests in microseconds: the real AS would take minutes for these
 * numbers and would itself be what is measured. (Cookie sizes, from real logins, are in scenario 2.)
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { freePorts, startChild, type Child } from '../children.js';
import { load } from '../load.js';
import type { ChildInit, MemoryReading } from '../protocol.js';
import type { Report } from '../report.js';
import { log } from '../rounds.js';
import { driveLogins, type LoginStatuses } from '../session-driver.js';
import type { Settings } from '../settings.js';
import { formatBytes, formatNumber } from '../stats.js';
import { LOAD_CAPS } from '../stack.js';

const SCENARIO = '4. Footprint';

interface App {
  label: string;
  init(port: number, issuer: string): ChildInit;
  statuses: LoginStatuses;
  /** Fraction of the counts driven (express-openid-connect keeps nothing server-side and is slow to drive). */
  share: number;
}

const APPS: App[] = [
  {
    label: 'ours',
    share: 1,
    statuses: { login: 303, callback: 303 },
    init: (port, issuer) => ({
      role: 'ours',
      port,
      options: {
        issuer,
        baseUrl: `http://127.0.0.1:${port}`,
        clientId: 'ours',
        clientSecret: 'scripted',
        sessionSecret: randomBytes(32).toString('base64url'),
        ...LOAD_CAPS,
      },
    }),
  },
  {
    label: 'express-openid-connect',
    share: 0.1,
    statuses: { login: 302, callback: 302 },
    init: (port, issuer) => ({
      role: 'eoc',
      port,
      settings: { issuer, clientId: 'eoc', clientSecret: 'scripted' },
    }),
  },
];

interface Reading {
  before: MemoryReading;
  after: MemoryReading;
  /** Session-store keys added by the measured part. */
  keys: number;
  /** Shared-state entries added by the measured part (ours: pending logins, token records, logout index). */
  shared: number;
}

/**
 * In a fresh app process: `drive(warmUp)` (code loaded, JIT warm, pools open), read memory and
 * keys, `drive(count)`, read again.
 */
async function measure(
  app: App,
  issuer: string,
  warmUp: number,
  count: number,
  drive: (child: Child, count: number) => Promise<void>,
): Promise<Reading> {
  const [port] = await freePorts(1);
  const child = await startChild(app.label, app.init(port!, issuer), {
    env: { NODE_ENV: 'production', REDIS_URL: undefined },
  });
  try {
    await drive(child, warmUp);
    const before = await child.call('mem');
    const keysBefore = await child.call('keys');
    const sharedBefore = await child.call('sharedKeys');
    await drive(child, count);
    const after = await child.call('mem');
    return {
      before,
      after,
      keys: (await child.call('keys')) - keysBefore,
      shared: (await child.call('sharedKeys')) - sharedBefore,
    };
  } finally {
    await child.stop();
  }
}

function describe(count: number, reading: Reading): string {
  const heap = reading.after.heapUsed - reading.before.heapUsed;
  const rss = reading.after.rss - reading.before.rss;
  const signed = (bytes: number): string => `${bytes < 0 ? '−' : '+'}${formatBytes(Math.abs(bytes))}`;
  return (
    `heapUsed ${signed(heap)} (${formatNumber(heap / count)} B each), RSS ${signed(rss)}, +${formatNumber(reading.keys)} session-store keys, ` +
    `+${formatNumber(reading.shared)} shared-state entries`
  );
}

/** Issue 18's targets: heap per logged-in session (1.5 KB) and per abandoned login (0.4 KB), in bytes. */
const MAX_HEAP_PER_SESSION = 1500;
const MAX_HEAP_PER_ABANDONED_LOGIN = 400;

/** A row's target: at most `maxBytes` of heap each. */
function heapTarget(reading: Reading, count: number, maxBytes: number) {
  const each = (reading.after.heapUsed - reading.before.heapUsed) / count;
  return { target: { text: `≤ ${formatNumber(maxBytes)} B each`, pass: each <= maxBytes } };
}

/** Run scenario 4 and add its rows. */
export async function footprint(settings: Settings, report: Report): Promise<void> {
  log(`${SCENARIO}: starting the scripted AS`);
  const [asPort] = await freePorts(1);
  const as = await startChild('scripted-as', { role: 'scripted-as', port: asPort! });
  try {
    for (const app of APPS) {
      const sessions = Math.max(1, Math.round(settings.sessions * app.share));
      log(`  ${app.label}: ${sessions} logins`);
      const logged = await measure(app, as.url, settings.footprintWarmUp, sessions, (child, count) =>
        driveLogins(child.url, count, 8, app.statuses),
      );
      report.add({
        scenario: SCENARIO,
        measurement: `${app.label}: after ${formatNumber(sessions)} logged-in sessions`,
        result: describe(sessions, logged),
        ...(app.label === 'ours' ? heapTarget(logged, sessions, MAX_HEAP_PER_SESSION) : {}),
      });
      if (app.label === 'ours' && logged.keys !== sessions)
        report.problem(`${SCENARIO}: ${sessions} logins left ${logged.keys} sessions in the store`);

      const abandoned = Math.max(1, Math.round(settings.abandoned * app.share));
      log(`  ${app.label}: ${abandoned} abandoned logins`);
      const left = await measure(app, as.url, settings.footprintWarmUp, abandoned, async (child, count) => {
        const result = await load(
          { label: `${app.label} /login`, url: `${child.url}/login`, expectStatus: app.statuses.login },
          { connections: settings.connections, duration: 0, amount: count },
        );
        if (result.ok !== count)
          report.problem(
            `${SCENARIO}: ${app.label}: ${result.ok} of ${count} abandoned logins answered ${app.statuses.login}`,
          );
      });
      report.add({
        scenario: SCENARIO,
        measurement: `${app.label}: after ${formatNumber(abandoned)} abandoned logins`,
        result: describe(abandoned, left),
        ...(app.label === 'ours' ? heapTarget(left, abandoned, MAX_HEAP_PER_ABANDONED_LOGIN) : {}),
      });
    }
    report.note(
      `${SCENARIO}: memory is read in a fresh app process (after ${settings.footprintWarmUp} warm-up logins) before and after, ` +
        'each time after two full GCs; "session-store keys" counts the entries added to the in-memory session store, "shared-state ' +
        'entries" those of our in-memory shared state (a pending login each; per logged-in session a token record, logout-index ' +
        'sets shared by sid and sub, and the used-state tombstone of its login). Logins are driven against ' +
        `the scripted AS (bench/scripted-as.ts), not oidc-provider: only the app is measured, and ${formatNumber(settings.abandoned)} PARs ` +
        'at the real AS would take minutes. express-openid-connect keeps its sessions and login transactions in cookies, so it is driven ' +
        'with a tenth of the counts.',
    );
  } finally {
    await as.stop();
  }
}
