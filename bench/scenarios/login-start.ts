/**
 * Scenario 1, login start: `GET /login` of a new visitor (no cookie), answered with a redirect after
 * the PAR round trip, in requests/s, each against the AS's own PAR endpoint hit directly with what
 * our middleware pushes (the ceiling of any login start):
 * - client_secret_basic and private_key_jwt, with express-openid-connect beside them;
 * - JAR (`requestObject: true`, RFC 9101: a signed request object, with private_key_jwt) and DPoP
 *   (`dpop: 'session'`, RFC 9449 §10: a fresh key per login, its thumbprint pushed as `dpop_jkt`,
 *   with client_secret_basic), at an AS with oidc-provider's `requestObjects` and `dPoP` on;
 * - beside each of the four, the **floor** of that kind (bench/apps.ts `floorApp`: push and redirect,
 *   nothing else, with ours's client, signing its assertion and request object or making its DPoP
 *   key per login), in the same rounds: what any app's login start of that kind reaches here.
 * Also the CPU each app spends per login start, and the AS per pushed request.
 *
 * @module
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { calculateJwkThumbprint } from 'jose';
import { clientAssertions, requestObjects, type SignedPool } from '../assertions.js';
import { discoverEndpoints } from '../discovery.js';
import type { LoadResult, LoadTarget } from '../load.js';
import type { Report } from '../report.js';
import { log, runRounds } from '../rounds.js';
import type { Settings } from '../settings.js';
import { startStack, type BenchStack, type ClientCredentials } from '../stack.js';
import { formatSummary, ratios, summarize, type Summary } from '../stats.js';

const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const SCENARIO = '1. Login start';
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

/** The authorization parameters our middleware pushes, with fresh values of the same sizes. */
function authParams(clientId: string, redirectUri: string): Record<string, string> {
  const value = (): string => randomBytes(32).toString('base64url');
  return {
    response_type: 'code',
    client_id: clientId,
    redirect_uri: redirectUri,
    scope: 'openid profile email',
    state: value(),
    nonce: value(),
    code_challenge: value(),
    code_challenge_method: 'S256',
  };
}

/** The form body our middleware pushes without JAR. */
function parBody(client: ClientCredentials, redirectUri: string): string {
  return new URLSearchParams(authParams(client.clientId, redirectUri)).toString();
}

function basicAuth(client: ClientCredentials): Record<string, string> {
  return { authorization: `Basic ${Buffer.from(`${client.clientId}:${client.secret!}`).toString('base64')}` };
}

/** The RFC 7638 thumbprint of a P-256 key made once: the AS only stores a pushed `dpop_jkt`. */
async function someJkt(): Promise<string> {
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return calculateJwkThumbprint(publicKey.export({ format: 'jwk' }), 'sha256');
}

/** The pre-signed values a direct request draws from: client assertions and request objects. */
interface Pools {
  jwtAssertions: SignedPool;
  jarAssertions: SignedPool;
  jarRequests: SignedPool;
}

function createPools(stack: BenchStack): Pools {
  const { oursJwt, oursJar } = stack.credentials;
  const jarRedirect = `${stack.apps['ours-jar']!.url}/callback`;
  return {
    jwtAssertions: clientAssertions(oursJwt.privateJwk!, oursJwt.clientId, stack.issuer),
    jarAssertions: clientAssertions(oursJar.privateJwk!, oursJar.clientId, stack.issuer),
    jarRequests: requestObjects(oursJar.privateJwk!, oursJar.clientId, stack.issuer, () =>
      authParams(oursJar.clientId, jarRedirect),
    ),
  };
}

/** An app's `GET /login`, measured with the AS. */
function appTarget(
  stack: BenchStack,
  kind: keyof BenchStack['apps'],
  label: string,
  status = 303,
): LoadTarget {
  const app = stack.apps[kind]!;
  return { label, url: `${app.url}/login`, expectStatus: status, cpuOf: [app, stack.as] };
}

/** The AS's PAR endpoint hit directly. */
function parTarget(stack: BenchStack, par: string, label: string, rest: Partial<LoadTarget>): LoadTarget {
  return { label, url: par, method: 'POST', expectStatus: 201, cpuOf: [stack.as], ...rest };
}

/** client_secret_basic: the raw PAR reference, the floor, ours and express-openid-connect. */
function basicTargets(stack: BenchStack, par: string): Record<string, LoadTarget> {
  const { oursBasic } = stack.credentials;
  return {
    parBasic: parTarget(stack, par, 'AS PAR endpoint, client_secret_basic', {
      headers: { ...FORM, ...basicAuth(oursBasic) },
      body: parBody(oursBasic, `${stack.apps['ours-basic']!.url}/callback`),
    }),
    floor: appTarget(stack, 'floor', 'floor GET /login, client_secret_basic (push + redirect only)'),
    oursBasic: appTarget(stack, 'ours-basic', 'ours GET /login, client_secret_basic'),
    eocBasic: appTarget(stack, 'eoc-basic', 'express-openid-connect GET /login, client_secret_basic', 302),
  };
}

/**
 * private_key_jwt: the raw PAR reference (a fresh assertion per request), the floor, ours and
 * express-openid-connect.
 */
function jwtTargets(stack: BenchStack, par: string, pools: Pools): Record<string, LoadTarget> {
  const body = parBody(stack.credentials.oursJwt, `${stack.apps['ours-jwt']!.url}/callback`);
  const assertionType = `client_assertion_type=${encodeURIComponent(JWT_BEARER)}`;
  return {
    parJwt: parTarget(stack, par, 'AS PAR endpoint, private_key_jwt', {
      headers: FORM,
      setupRequest: (request) => ({
        ...request,
        body: `${body}&${assertionType}&client_assertion=${pools.jwtAssertions.take()}`,
      }),
    }),
    floorJwt: appTarget(stack, 'floor-jwt', 'floor GET /login, private_key_jwt (push + redirect only)'),
    oursJwt: appTarget(stack, 'ours-jwt', 'ours GET /login, private_key_jwt'),
    eocJwt: appTarget(stack, 'eoc-jwt', 'express-openid-connect GET /login, private_key_jwt', 302),
  };
}

/** JAR and DPoP: each raw PAR reference with what ours pushes, the floor, and ours. */
function jarDpopTargets(
  stack: BenchStack,
  par: string,
  pools: Pools,
  jkt: string,
): Record<string, LoadTarget> {
  const { oursJar, oursDpop } = stack.credentials;
  const jarPrefix = `client_id=${encodeURIComponent(oursJar.clientId)}&request=`;
  const assertionType = `client_assertion_type=${encodeURIComponent(JWT_BEARER)}`;
  return {
    parJar: parTarget(stack, par, 'AS PAR endpoint, private_key_jwt + JAR request object', {
      headers: FORM,
      setupRequest: (request) => ({
        ...request,
        body:
          `${jarPrefix}${pools.jarRequests.take()}` +
          `&${assertionType}&client_assertion=${pools.jarAssertions.take()}`,
      }),
    }),
    floorJar: appTarget(stack, 'floor-jar', 'floor GET /login, private_key_jwt + JAR (push + redirect only)'),
    oursJar: appTarget(stack, 'ours-jar', 'ours GET /login, private_key_jwt + JAR (requestObject)'),
    parDpop: parTarget(stack, par, 'AS PAR endpoint, client_secret_basic + dpop_jkt', {
      headers: { ...FORM, ...basicAuth(oursDpop) },
      body: `${parBody(oursDpop, `${stack.apps['ours-dpop']!.url}/callback`)}&dpop_jkt=${jkt}`,
    }),
    floorDpop: appTarget(
      stack,
      'floor-dpop',
      'floor GET /login, client_secret_basic + DPoP (a key per login; push + redirect only)',
    ),
    oursDpop: appTarget(stack, 'ours-dpop', "ours GET /login, client_secret_basic + DPoP (dpop: 'session')"),
  };
}

/** Run scenario 1 and add its rows. */
export async function loginStart(
  settings: Settings,
  report: Report,
  cpuProfileDir: string | undefined,
): Promise<void> {
  log(`${SCENARIO}: starting the AS and the apps`);
  const stack = await startStack(
    [
      'ours-basic',
      'ours-jwt',
      'ours-jar',
      'ours-dpop',
      'eoc-basic',
      'eoc-jwt',
      'floor',
      'floor-jwt',
      'floor-jar',
      'floor-dpop',
    ],
    { cpuProfileDir, asFeatures: ['requestObjects', 'dPoP'] },
  );
  try {
    const { par } = await discoverEndpoints(stack.issuer);
    const pools = createPools(stack);
    const targets: Record<string, LoadTarget> = {
      ...basicTargets(stack, par),
      ...jwtTargets(stack, par, pools),
      ...jarDpopTargets(stack, par, pools, await someJkt()),
    };
    // Each judged row beside its raw PAR reference and its floor, back to back.
    const groups = [
      ['parBasic', 'oursBasic', 'floor'],
      ['parJwt', 'oursJwt', 'floorJwt'],
      ['parJar', 'oursJar', 'floorJar'],
      ['parDpop', 'oursDpop', 'floorDpop'],
    ];
    const results = await runRounds(targets, settings, report, poolHooks(settings, pools), groups);
    const late = [pools.jwtAssertions, pools.jarAssertions, pools.jarRequests].map((pool) => pool.signedLate);
    if (late.some((count) => count > 0))
      report.note(
        `${SCENARIO}: signed during a run (the pool ran dry): ${late[0]! + late[1]!} client assertions, ` +
          `${late[2]!} request objects.`,
      );
    addRateRows(report, results, targets);
    addCpuRows(report, results, targets);
    report.note(
      `${SCENARIO}: every login start is anonymous (no cookie), as a new visitor's is: ours creates no session but keeps ` +
        'one pending-login entry per request (for the PAR lifetime plus the login grace, 5 minutes here), so its in-memory shared state ' +
        'grows during the runs; express-openid-connect keeps its transaction in a cookie; ' +
        "each floor keeps a PKCE verifier per login in a Map (the DPoP floor also the login's private JWK). " +
        'Each floor pushes what ours pushes with the same client, making per login what that needs: ' +
        'a client assertion (private_key_jwt, JAR) and a request object (JAR), signed with `node:crypto` ' +
        'and a key imported once; a P-256 key (DPoP: an ECDH key pair, the cheapest node:crypto makes), ' +
        'its RFC 7638 thumbprint pushed as `dpop_jkt`. ' +
        'Each raw PAR reference pushes what our middleware pushes, with fresh state, nonce and challenge values of the same sizes ' +
        '(private_key_jwt: a fresh client assertion per request; JAR: `client_id`, a fresh signed request object and a fresh assertion; ' +
        'DPoP: the basic form plus a fixed `dpop_jkt`), all signed before each run. ' +
        'App CPU is process-wide (all threads) per expected response, median over rounds.',
    );
  } finally {
    await stack.stop();
  }
}

/** Fill the pools a direct request draws from before its run, sized from the fastest run so far. */
function poolHooks(settings: Settings, pools: Pools): Parameters<typeof runRounds>[3] {
  const byTarget: Record<string, SignedPool[]> = {
    parJwt: [pools.jwtAssertions],
    parJar: [pools.jarRequests, pools.jarAssertions],
  };
  const rates: Record<string, number> = {};
  return {
    before: (key, seconds) => {
      const count = Math.ceil((rates[key] ?? 2000) * seconds * 1.3) + settings.connections * 2;
      for (const pool of byTarget[key] ?? []) pool.fill(count);
    },
    after: (key, result) => {
      if (key in byTarget) rates[key] = Math.max(rates[key] ?? 0, result.rps, 100);
    },
  };
}

/** Requests/s rows: references first, then each app with its ratios; the first ratio is judged. */
function addRateRows(
  report: Report,
  results: Record<string, LoadResult[]>,
  targets: Record<string, LoadTarget>,
): void {
  const rps = (key: string): number[] => results[key]!.map((r) => r.rps);
  const row = (key: string, references: Array<[string, string]> = [], minimum?: number): void => {
    const list = references.map(([reference, label]) => ({ ratio: ratios(rps(key), rps(reference)), label }));
    const judged = list[0];
    report.add({
      scenario: SCENARIO,
      measurement: targets[key]!.label,
      result: formatSummary(summarize(rps(key)), 0, ' req/s'),
      ...(list.length > 0
        ? { ratio: list.map(({ ratio, label }) => `${formatSummary(ratio, 2, '×')} ${label}`).join('; ') }
        : {}),
      ...(judged !== undefined && minimum !== undefined
        ? { target: { text: `≥ ${minimum}× ${judged.label}`, pass: judged.ratio.median >= minimum } }
        : {}),
    });
  };
  // Each kind: its raw PAR reference, its floor, ours (judged against the reference) and, for the
  // basic and private_key_jwt kinds, express-openid-connect.
  for (const { par, floor, ours, eoc, raw, minimum } of RATE_KINDS) {
    row(par);
    row(floor, [[par, raw]]);
    row(
      ours,
      [
        [par, raw],
        [floor, 'floor'],
      ],
      minimum,
    );
    if (eoc !== undefined) row(eoc, [[par, raw]]);
  }
}

/** The login-start kinds' target keys, the name of their raw PAR reference and their judged minimum. */
const RATE_KINDS: ReadonlyArray<{
  par: string;
  floor: string;
  ours: string;
  eoc?: string;
  raw: string;
  minimum: number;
}> = [
  { par: 'parBasic', floor: 'floor', ours: 'oursBasic', eoc: 'eocBasic', raw: 'raw PAR', minimum: 0.75 },
  { par: 'parJwt', floor: 'floorJwt', ours: 'oursJwt', eoc: 'eocJwt', raw: 'raw PAR', minimum: 0.75 },
  { par: 'parJar', floor: 'floorJar', ours: 'oursJar', raw: 'raw PAR (JAR)', minimum: 0.6 },
  { par: 'parDpop', floor: 'floorDpop', ours: 'oursDpop', raw: 'raw PAR (DPoP)', minimum: 0.6 },
];

/** CPU rows: each app's per login start (with the AS's), judged where a ceiling is set; the AS's per direct push. */
function addCpuRows(
  report: Report,
  results: Record<string, LoadResult[]>,
  targets: Record<string, LoadTarget>,
): void {
  const cpu = (key: string, child: string): Summary =>
    summarize(results[key]!.map((r) => r.cpuPerRequest[child]!));
  const text = (summary: Summary): string => formatSummary(summary, 0, ' µs');
  const ceilings: Record<string, number | undefined> = { oursBasic: 200, oursJwt: 250 };
  const keys = ['oursBasic', 'oursJwt', 'oursJar', 'oursDpop', 'floor', 'floorJwt', 'floorJar', 'floorDpop'];
  for (const key of [...keys, 'eocBasic', 'eocJwt']) {
    const app = cpu(key, targets[key]!.cpuOf![0]!.name);
    const ceiling = ceilings[key];
    report.add({
      scenario: SCENARIO,
      measurement: `app CPU per login start: ${targets[key]!.label}`,
      result: `${text(app)} (AS: ${text(cpu(key, 'as'))})`,
      ...(ceiling !== undefined ? { target: { text: `≤ ${ceiling} µs`, pass: app.median <= ceiling } } : {}),
    });
  }
  report.add({
    scenario: SCENARIO,
    measurement: 'AS CPU per PAR request, hit directly (basic / private_key_jwt)',
    result: `${text(cpu('parBasic', 'as'))} / ${text(cpu('parJwt', 'as'))}`,
  });
  report.add({
    scenario: SCENARIO,
    measurement: 'AS CPU per PAR request, hit directly (JAR / DPoP)',
    result: `${text(cpu('parJar', 'as'))} / ${text(cpu('parDpop', 'as'))}`,
  });
}
