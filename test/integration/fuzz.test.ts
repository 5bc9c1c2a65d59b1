/**
 * Property-based fuzzing of /callback and /login with arbitrary query strings (fast-check), against
 * the app wired to the hostile AS (fast; it checks PKCE and client authentication like a real AS)
 * and, for /callback, to the real oidc-provider. Real material is mixed into the garbage: the states
 * of the victim's pending logins, codes the AS issued to another browser, and the issuer, so the
 * fuzzer gets past the state and issuer checks to the token exchange.
 *
 * Properties: never a 500; never a login (/callback never redirects, /me stays 401, the AS issues
 * no token); every redirect stays on the app's origin or goes to the AS's authorization endpoint
 * with only `client_id` and `request_uri`; HTML error pages never carry an injected tag.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { startHostileAs, type HostileAs } from '../helpers/hostile-as.js';
import {
  startHostileApp,
  trackUnhandledRejections,
  walkToCallback,
  type HostileApp,
} from '../helpers/hostile-stack.js';
import {
  applySetCookies,
  closeRawClient,
  foreignTags,
  fuzzCallbackQuery,
  fuzzQuery,
  fuzzValue,
  rawGet,
  renderQuery,
  wire,
  type FuzzPools,
  type RawResponse,
} from '../helpers/fuzz-query.js';
import { startStack, type Stack } from '../helpers/stack.js';

const JSON_FETCH = { accept: 'application/json', 'sec-fetch-mode': 'cors' };
const NAVIGATION = { accept: 'text/html', 'sec-fetch-mode': 'navigate' };

/** An app under fuzz, with a victim browser session that has pending logins. */
interface Target {
  appUrl: string;
  pools: FuzzPools;
  victimCookie: string;
  /** The state the AS received in its latest push. */
  lastPushedState(): string;
}

let tracker: ReturnType<typeof trackUnhandledRejections>;
beforeAll(() => {
  tracker = trackUnhandledRejections();
});
afterAll(() => {
  closeRawClient();
  tracker.stop();
});

/** Start one more pending login in the victim's browser; its state joins the pool. */
async function victimStartsLogin(target: Target): Promise<void> {
  const res = await rawGet(
    target.appUrl,
    '/login',
    target.victimCookie ? { cookie: target.victimCookie } : {},
  );
  expect(res.status).toBe(303);
  target.victimCookie = applySetCookies(target.victimCookie, res.headers);
  target.pools.states.push(target.lastPushedState());
}

function codeOf(res: RawResponse): string | undefined {
  if (String(res.headers['content-type']).includes('json'))
    return (JSON.parse(res.body) as { error?: string }).error;
  return /Error <code>([^<]*)<\/code>/.exec(res.body)?.[1];
}

/**
 * Fuzz /callback: never a 500, a redirect or a login; only 400s, and 502 token_error once a real
 * state got through to the token exchange. Returns every `status code` pair seen.
 */
async function fuzzCallback(target: Target, numRuns: number): Promise<string> {
  const seen = new Set<string>();
  const caller = fc.constantFrom('victim', 'victim', 'victim', 'nobody', 'forged');
  const accept = fc.constantFrom('json', 'html', 'none');
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(fuzzQuery(), fuzzCallbackQuery()),
      caller,
      accept,
      fc.nat({ max: 9 }),
      async (query, who, kind, refill) => {
        if (refill === 0) await victimStartsLogin(target);
        const headers: Record<string, string> =
          kind === 'json' ? { ...JSON_FETCH } : kind === 'html' ? { ...NAVIGATION } : {};
        if (who === 'victim') headers.cookie = target.victimCookie;
        if (who === 'forged') headers.cookie = `parlogin=s%3A${target.pools.states[0]}.forged`;
        const res = await rawGet(target.appUrl, `/callback?${renderQuery(query, target.pools)}`, headers);
        const code = codeOf(res);
        seen.add(`${res.status} ${code}`);
        expect([400, 502]).toContain(res.status);
        if (res.status === 502) expect(code).toBe('token_error');
        expect(res.headers.location).toBeUndefined();
        expect(res.headers['cache-control']).toBe('no-store');
        expect(res.headers['referrer-policy']).toBe('no-referrer');
        if (String(res.headers['content-type']).startsWith('text/html'))
          expect(foreignTags(res.body)).toEqual([]);
      },
    ),
    { numRuns },
  );
  expect((await rawGet(target.appUrl, '/me', { ...JSON_FETCH, cookie: target.victimCookie })).status).toBe(
    401,
  );
  expect((await rawGet(target.appUrl, '/')).status).toBe(200);
  return [...seen].join(' ');
}

/** The fuzzer reached every layer: state checks, the issuer check, and the token exchange. */
function expectEveryLayer(seen: string): void {
  for (const code of [
    'state_missing',
    'state_unknown',
    'state_used',
    'invalid_request',
    'iss_missing',
    'iss_mismatch',
    '502 token_error',
  ]) {
    expect(seen).toContain(code);
  }
}

describe('against the hostile AS', () => {
  let as: HostileAs;
  let app: HostileApp;
  let target: Target;

  beforeAll(async () => {
    as = await startHostileAs();
    // Stale states would start fresh logins (a property of its own, below); here every layer's refusal is fuzzed.
    // Hundreds of logins start from one address: the per-IP cap (login-rate.test.ts) would shed them.
    app = await startHostileApp(as, {
      maxPendingLogins: 20,
      restartStaleLogins: false,
      maxLoginStartsPerIpPerMinute: 0,
    });
    const lastPushedState = (): string => as.requests.filter((r) => r.endpoint === 'par').at(-1)!.form.state!;
    target = {
      appUrl: app.url,
      pools: { states: [], codes: [], issuer: as.issuer },
      victimCookie: '',
      lastPushedState,
    };
    for (let i = 0; i < 5; i += 1) await victimStartsLogin(target);
    // Codes and states of another browser's logins, stopped right before its callback.
    const attacker = app.browser();
    for (let i = 0; i < 5; i += 1) {
      const callback = new URL(await walkToCallback(app, attacker));
      target.pools.codes.push(callback.searchParams.get('code')!);
      target.pools.states.push(callback.searchParams.get('state')!);
    }
  });
  afterAll(async () => {
    await app.close();
    await as.close();
  });

  it('GET /callback: never a 500, never a login, never a redirect, never injected markup', async () => {
    expectEveryLayer(await fuzzCallback(target, 1_500));
    expect(as.count('token')).toBeGreaterThan(10);
    expect(as.issued).toHaveLength(0); // PKCE refused every stolen code
  });

  it('GET /login: always to the authorization endpoint with only client_id and request_uri', async () => {
    const authorizations = as.count('auth');
    const keys = [
      'returnTo',
      'returnTo',
      'returnTo',
      'redirect_uri',
      'client_id',
      'request_uri',
      'scope',
      'state',
      'prompt',
      'login_hint',
      '',
    ];
    await fc.assert(
      fc.asyncProperty(fuzzQuery(keys, false), fc.boolean(), async (query, withCookie) => {
        const res = await rawGet(
          app.url,
          `/login?${renderQuery(query, target.pools)}`,
          withCookie ? { cookie: target.victimCookie } : {},
        );
        expect(res.status).toBe(303);
        expect(res.headers['cache-control']).toBe('no-store');
        const location = new URL(res.headers.location!);
        expect(location.origin + location.pathname).toBe(as.url('auth'));
        expect([...location.searchParams.keys()]).toEqual(['client_id', 'request_uri']);
        expect(location.searchParams.get('client_id')).toBe(as.clientId);
      }),
      { numRuns: 800 },
    );
    expect(as.count('auth')).toBe(authorizations);
  });

  it('GET /callback with restarts on: a stale navigation starts one fresh login at most, never a login, never a 500', async () => {
    const restarting = await startHostileApp(as);
    try {
      const pushes = (): number => as.requests.filter((r) => r.endpoint === 'par').length;
      const issued = as.issued.length;
      await fc.assert(
        fc.asyncProperty(fuzzCallbackQuery(), fc.constantFrom('html', 'json'), async (query, kind) => {
          const before = pushes();
          const res = await rawGet(
            restarting.url,
            `/callback?${renderQuery(query, target.pools)}`,
            kind === 'html' ? NAVIGATION : JSON_FETCH,
          );
          if (res.status === 303) {
            expect(kind).toBe('html');
            const location = new URL(res.headers.location!);
            expect(location.origin + location.pathname).toBe(as.url('auth'));
            expect([...location.searchParams.keys()]).toEqual(['client_id', 'request_uri']);
            expect(pushes()).toBe(before + 1);
            // The fresh login's state is marked: delivered without its cookie, it is refused, not restarted.
            const state = as.requests.filter((r) => r.endpoint === 'par').at(-1)!.form.state!;
            expect(state.startsWith('r.')).toBe(true);
            const again = await rawGet(
              restarting.url,
              `/callback?state=${state}&code=x&iss=${encodeURIComponent(as.issuer)}`,
              NAVIGATION,
            );
            expect(again.status).toBe(400);
          } else {
            expect(res.status).toBe(400);
            expect(pushes()).toBe(before);
          }
        }),
        { numRuns: 400 },
      );
      expect(as.issued).toHaveLength(issued);
    } finally {
      await restarting.close();
    }
  });

  it('a full login lands on the app itself, whatever returnTo was', async () => {
    const returnTo = fc.oneof(
      fuzzValue(false).filter((v): v is string => typeof v === 'string'),
      fc.string({ unit: 'binary', maxLength: 30 }).map((s) => `/${s}`),
      fc.webUrl({ withQueryParameters: true, withFragments: true }),
      fc.constantFrom(
        '/%2F%2Fevil.example',
        '/%5Cevil.example',
        '/.//evil.example',
        '/\t/evil.example',
        '/ /evil.example',
        '\\\\evil.example',
      ),
    );
    await fc.assert(
      fc.asyncProperty(
        returnTo,
        fc.constantFrom('percent' as const, 'form' as const, 'raw' as const),
        async (value, encoding) => {
          const login = await rawGet(app.url, `/login?returnTo=${wire(value, encoding)}`);
          const cookie = applySetCookies('', login.headers);
          const authorize = new URL(login.headers.location!);
          const callback = new URL(
            (await rawGet(authorize.origin, authorize.pathname + authorize.search)).headers.location!,
          );
          const done = await rawGet(app.url, callback.pathname + callback.search, { cookie });
          expect(done.status).toBe(303);
          // The callback redirects to baseUrl + returnTo: what follows the base URL must be a local path.
          const location = done.headers.location!;
          expect(location.startsWith(`${app.url}/`)).toBe(true);
          expect(location.slice(app.url.length)).toMatch(/^\/(?![/\\])/);
          expect(new URL(location).origin).toBe(new URL(app.url).origin);
        },
      ),
      { numRuns: 250 },
    );
  });
});

describe('against the real oidc-provider', () => {
  let stack: Stack;
  let target: Target;

  beforeAll(async () => {
    stack = await startStack({ overrides: { maxPendingLogins: 20, restartStaleLogins: false } });
    const lastPushedState = (): string =>
      String(stack.record.filter((r) => r.endpoint === 'par').at(-1)!.body.state);
    target = {
      appUrl: stack.appUrl,
      pools: { states: [], codes: [], issuer: stack.issuer },
      victimCookie: '',
      lastPushedState,
    };
    for (let i = 0; i < 5; i += 1) await victimStartsLogin(target);
    const attacker = stack.browser();
    for (let i = 0; i < 3; i += 1) {
      const callback = new URL((await attacker.stepUntilCallback(stack.appUrl)).callbackUrl);
      target.pools.codes.push(callback.searchParams.get('code')!);
      target.pools.states.push(callback.searchParams.get('state')!);
    }
  });
  afterAll(() => stack.close());

  it('GET /callback: never a 500, never a login, and the AS issues no token for a stolen code', async () => {
    expectEveryLayer(await fuzzCallback(target, 500));
    const exchanges = stack.record.filter((r) => r.endpoint === 'token');
    expect(exchanges.length).toBeGreaterThan(0);
    expect(exchanges.filter((r) => r.status === 200)).toEqual([]);
  });
});

it('had no unhandled rejection', async () => {
  await new Promise((resolve) => setTimeout(resolve, 20));
  expect(tracker.reasons).toEqual([]);
});
