/**
 * What a real AS will not do on request, for the per-request parameters and request_uri expiry:
 * an ID token without `auth_time` (or a stale one) after `max_age`, malformed granted
 * `authorization_details`, and an `invalid_request_uri` error that carries the state.
 */
import { describe, expect, it } from '@jest/globals';
import { expectCleanFailure, FETCH_HEADERS, useHostileStack } from '../helpers/hostile-stack.js';

const fixture = useHostileStack();

const now = (): number => Math.floor(Date.now() / 1000);

describe('max_age and auth_time', () => {
  it('logs in when auth_time is recent enough', async () => {
    fixture.as.idToken.claims = (claims) => ({ ...claims, auth_time: now() - 30 });
    const browser = fixture.app.browser();
    const hops = await browser.follow(`${fixture.app.url}/login?max_age=60`);
    expect(hops.at(-1)!.url).toBe(`${fixture.app.url}/`);
    expect((await browser.request(`${fixture.app.url}/me`, { headers: FETCH_HEADERS })).status).toBe(200);
  });

  it.each([
    ['no auth_time', (claims: Record<string, unknown>) => claims],
    [
      'an auth_time older than max_age',
      (claims: Record<string, unknown>) => ({ ...claims, auth_time: now() - 60 - 31 - 5 }),
    ],
    [
      'an auth_time that is not a number',
      (claims: Record<string, unknown>) => ({ ...claims, auth_time: 'yesterday' }),
    ],
  ])('refuses an ID token with %s after max_age=60 (id_token_invalid, 502)', async (_name, change) => {
    fixture.as.idToken.claims = change;
    const browser = fixture.app.browser();
    const hops = await browser.follow(`${fixture.app.url}/login?max_age=60`);
    expect(fixture.as.requests.find((r) => r.endpoint === 'par')!.form.max_age).toBe('60');
    await expectCleanFailure(fixture.app, browser, hops.at(-1)!, 'id_token_invalid', 502);
  });

  it('does not ask for auth_time when max_age was not requested', async () => {
    const browser = fixture.app.browser();
    const hops = await browser.follow(`${fixture.app.url}/login`);
    expect(hops.at(-1)!.status).toBe(200);
  });
});

describe('granted authorization_details', () => {
  it.each([
    ['not an array', { type: 'payment_initiation' }],
    ['an entry without a type', [{ amount: 1 }]],
  ])(
    'refuses a token response whose authorization_details is %s (token_error, 502)',
    async (_name, details) => {
      fixture.as.script.token = {
        body: (normal: unknown) => ({ ...(normal as object), authorization_details: details }),
      };
      const browser = fixture.app.browser();
      const hops = await browser.follow(`${fixture.app.url}/login`);
      await expectCleanFailure(fixture.app, browser, hops.at(-1)!, 'token_error', 502);
    },
  );
});

describe('invalid_request_uri with a state', () => {
  it('pushes again once for that login and finishes it', async () => {
    let refused = 0;
    fixture.as.script.auth = (request) => {
      const query = new URL(request.url, fixture.as.issuer).searchParams;
      if (refused > 0) return undefined;
      refused += 1;
      const pushed = fixture.as.requests.filter((r) => r.endpoint === 'par').at(-1)!.form;
      const back = new URL(pushed.redirect_uri!);
      back.searchParams.set('error', 'invalid_request_uri');
      back.searchParams.set('state', pushed.state!);
      back.searchParams.set('iss', fixture.as.issuer);
      expect(query.get('request_uri')).toBeTruthy();
      return { status: 303, headers: { location: back.href } };
    };
    const browser = fixture.app.browser();
    const hops = await browser.follow(`${fixture.app.url}/login?returnTo=/profile&login_hint=x`);
    expect(hops.at(-1)!.url).toBe(`${fixture.app.url}/profile`);
    const pushes = fixture.as.requests.filter((r) => r.endpoint === 'par');
    expect(pushes).toHaveLength(2);
    expect(pushes[1]!.form.login_hint).toBe('x'); // the same request, pushed again
    expect(pushes[1]!.form.state).not.toBe(pushes[0]!.form.state);
    const me = await browser.request(`${fixture.app.url}/me`, { headers: FETCH_HEADERS });
    expect(me.status).toBe(200);
  });

  it('shows authorization_error (400) when the AS refuses the fresh request_uri too', async () => {
    fixture.as.script.auth = () => {
      const pushed = fixture.as.requests.filter((r) => r.endpoint === 'par').at(-1)!.form;
      const back = new URL(pushed.redirect_uri!);
      back.searchParams.set('error', 'invalid_request_uri');
      back.searchParams.set('state', pushed.state!);
      back.searchParams.set('iss', fixture.as.issuer);
      return { status: 303, headers: { location: back.href } };
    };
    const browser = fixture.app.browser();
    const hops = await browser.follow(`${fixture.app.url}/login`);
    expect(fixture.as.count('par')).toBe(2);
    await expectCleanFailure(fixture.app, browser, hops.at(-1)!, 'authorization_error', 400);
  });
});
