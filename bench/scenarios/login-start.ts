/**
 * Scenario 1, login start: `GET /login` answered with a redirect after the PAR round trip, in
 * requests/s, against the AS's own PAR endpoint hit directly with an equivalent request (the
 * ceiling of any login start), with client_secret_basic and private_key_jwt; and the CPU each app
 * spends per login start.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import { AssertionPool } from '../assertions.js';
import { discoverEndpoints } from '../discovery.js';
import type { LoadResult, LoadTarget } from '../load.js';
import type { Report } from '../report.js';
import { log, runRounds } from '../rounds.js';
import type { Settings } from '../settings.js';
import { startStack, type ClientCredentials } from '../stack.js';
import { formatSummary, ratios, summarize } from '../stats.js';

const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const SCENARIO = '1. Login start';

/** The form body our middleware pushes, with fresh-looking values of the same sizes. */
function parBody(client: ClientCredentials, redirectUri: string): string {
  const value = (): string => randomBytes(32).toString('base64url');
  return new URLSearchParams({
    response_type: 'code',
    client_id: client.clientId,
    redirect_uri: redirectUri,
    scope: 'openid profile email',
    state: value(),
    nonce: value(),
    code_challenge: value(),
    code_challenge_method: 'S256',
  }).toString();
}

/** Run scenario 1 and add its rows. */
export async function loginStart(
  settings: Settings,
  report: Report,
  cpuProfileDir: string | undefined,
): Promise<void> {
  log(`${SCENARIO}: starting the AS and the apps`);
  const stack = await startStack(['ours-basic', 'ours-jwt', 'eoc-basic', 'eoc-jwt'], { cpuProfileDir });
  try {
    const as = await discoverEndpoints(stack.issuer);
    const { oursBasic, oursJwt } = stack.credentials;
    const apps = stack.apps as Required<typeof stack.apps>;
    const pool = new AssertionPool(oursJwt.privateJwk!, oursJwt.clientId, stack.issuer);
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    const jwtBody = parBody(oursJwt, `${apps['ours-jwt'].url}/callback`);
    const targets: Record<string, LoadTarget> = {
      parBasic: {
        label: 'AS PAR endpoint, client_secret_basic',
        url: as.par,
        method: 'POST',
        expectStatus: 201,
        cpuOf: [stack.as],
        headers: {
          ...form,
          authorization: `Basic ${Buffer.from(`${oursBasic.clientId}:${oursBasic.secret!}`).toString('base64')}`,
        },
        body: parBody(oursBasic, `${apps['ours-basic'].url}/callback`),
      },
      oursBasic: {
        label: 'ours GET /login, client_secret_basic',
        url: `${apps['ours-basic'].url}/login`,
        expectStatus: 303,
        cpuOf: [apps['ours-basic'], stack.as],
      },
      eocBasic: {
        label: 'express-openid-connect GET /login, client_secret_basic',
        url: `${apps['eoc-basic'].url}/login`,
        expectStatus: 302,
        cpuOf: [apps['eoc-basic'], stack.as],
      },
      parJwt: {
        label: 'AS PAR endpoint, private_key_jwt',
        url: as.par,
        method: 'POST',
        expectStatus: 201,
        cpuOf: [stack.as],
        headers: form,
        setupRequest: (request) => ({
          ...request,
          body: `${jwtBody}&client_assertion_type=${encodeURIComponent(JWT_BEARER)}&client_assertion=${pool.take()}`,
        }),
      },
      oursJwt: {
        label: 'ours GET /login, private_key_jwt',
        url: `${apps['ours-jwt'].url}/login`,
        expectStatus: 303,
        cpuOf: [apps['ours-jwt'], stack.as],
      },
      eocJwt: {
        label: 'express-openid-connect GET /login, private_key_jwt',
        url: `${apps['eoc-jwt'].url}/login`,
        expectStatus: 302,
        cpuOf: [apps['eoc-jwt'], stack.as],
      },
    };
    let parJwtRate = 2000;
    const results = await runRounds(targets, settings, report, {
      before: (key, seconds) =>
        key === 'parJwt' && pool.fill(Math.ceil(parJwtRate * seconds * 1.3) + settings.connections * 2),
      after: (key, result) => {
        if (key === 'parJwt') parJwtRate = Math.max(result.rps, 100);
      },
    });
    if (pool.signedLate > 0)
      report.note(
        `${SCENARIO}: ${pool.signedLate} client assertions were signed during a run (the pool ran dry).`,
      );
    addRows(report, results, targets, stack.apps);
    report.note(
      `${SCENARIO}: every login start is anonymous (no cookie), as a new visitor's is: ours creates no session but keeps ` +
        'one pending-login entry per request (for the PAR lifetime plus the login grace, 5 minutes here), so its in-memory shared state ' +
        'grows during the runs; express-openid-connect keeps its transaction in a cookie. App CPU is process-wide (all threads) per expected response.',
    );
  } finally {
    await stack.stop();
  }
}

function addRows(
  report: Report,
  results: Record<string, LoadResult[]>,
  targets: Record<string, LoadTarget>,
  apps: Record<string, { name: string } | undefined>,
): void {
  const rps = (key: string): number[] => results[key]!.map((r) => r.rps);
  const cpu = (key: string, child: string): string =>
    formatSummary(summarize(results[key]!.map((r) => r.cpuPerRequest[child]!)), 0, ' µs');
  for (const [method, par, minimum] of [
    ['Basic', 'parBasic', 0.55],
    ['Jwt', 'parJwt', 0.5],
  ] as const) {
    report.add({
      scenario: SCENARIO,
      measurement: targets[par]!.label,
      result: formatSummary(summarize(rps(par)), 0, ' req/s'),
    });
    for (const app of [`ours${method}`, `eoc${method}`]) {
      const ratio = ratios(rps(app), rps(par));
      report.add({
        scenario: SCENARIO,
        measurement: targets[app]!.label,
        result: formatSummary(summarize(rps(app)), 0, ' req/s'),
        ratio: `${formatSummary(ratio, 2, '×')} raw PAR`,
        ...(app.startsWith('ours')
          ? { target: { text: `≥ ${minimum}× raw PAR`, pass: ratio.median >= minimum } }
          : {}),
      });
    }
  }
  for (const app of ['oursBasic', 'oursJwt', 'eocBasic', 'eocJwt']) {
    const child = apps[app.replace(/([A-Z])/, '-$1').toLowerCase()]!.name;
    report.add({
      scenario: SCENARIO,
      measurement: `app CPU per login start: ${targets[app]!.label}`,
      result: `${cpu(app, child)} (AS: ${cpu(app, 'as')})`,
    });
  }
  report.add({
    scenario: SCENARIO,
    measurement: 'AS CPU per PAR request, hit directly (basic / private_key_jwt)',
    result: `${cpu('parBasic', 'as')} / ${cpu('parJwt', 'as')}`,
  });
}
