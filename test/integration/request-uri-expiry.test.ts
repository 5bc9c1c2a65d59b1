/**
 * An expired or unknown request_uri (RFC 9126 §4): oidc-provider sends the browser back with
 * `error=invalid_request_uri` (and no state: it no longer knows the request). The app pushes again,
 * once, and the user goes on logging in; a second expiry shows the error.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { completeAtAs } from '../helpers/as-forms.js';
import type { Hop } from '../helpers/browser.js';
import { startStack, type Stack } from '../helpers/stack.js';

describe('request_uri expiry against oidc-provider', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(() => stack.close());

  /** Forget the pushed request a redirect to the AS carries, as if its expires_in had passed. */
  async function expire(toAs: Hop): Promise<void> {
    const requestUri = new URL(toAs.location!).searchParams.get('request_uri')!;
    const id = requestUri.split(':').at(-1)!;
    const pushed = await stack.provider.PushedAuthorizationRequest.find(id);
    expect(pushed).toBeDefined();
    await pushed!.destroy();
  }

  function secondVisitTo(path: string): (url: URL) => boolean {
    let visits = 0;
    return (url) => url.pathname === path && (visits += 1) === 2;
  }

  it('pushes again once and completes the login', async () => {
    const browser = stack.browser();
    const pushes = stack.record.filter((r) => r.endpoint === 'par').length;
    const login = await browser.navigate(`${stack.appUrl}/login?returnTo=/profile`);
    await expire(login);
    const hops = await browser.follow(login);
    const callback = hops.find((hop) => new URL(hop.url).pathname === '/callback')!;
    expect(new URL(callback.url).searchParams.get('error')).toBe('invalid_request_uri');
    expect(callback.status).toBe(303);
    expect([...new URL(callback.location!).searchParams.keys()]).toEqual(['client_id', 'request_uri']);
    const done = await completeAtAs(browser, hops, stack.appUrl);
    expect(done.at(-1)!.url).toBe(`${stack.appUrl}/profile`);
    expect(done.at(-1)!.body).toContain('Alice Example');
    expect(stack.record.filter((r) => r.endpoint === 'par').length).toBe(pushes + 2);
    expect(stack.logs.filter((l) => l.code === 'request_uri_expired')).toHaveLength(1);
  });

  it('shows the error when the fresh request_uri expires too', async () => {
    const browser = stack.browser();
    const login = await browser.navigate(`${stack.appUrl}/login`);
    await expire(login);
    const first = await browser.follow(login, { stopBefore: secondVisitTo('/auth') }); // the AS, then the callback that pushes again
    const retry = first.at(-1)!;
    expect(retry.status).toBe(303);
    await expire(retry);
    const second = await browser.follow(retry);
    const page = second.at(-1)!;
    expect(page.status).toBe(400);
    expect(page.body).toContain('<code>authorization_error</code>');
    expect(page.body).toContain('invalid_request_uri');
    expect(
      (await browser.request(`${stack.appUrl}/me`, { headers: { accept: 'application/json' } })).status,
    ).toBe(401);
  });

  it('does not start a login for a stray invalid_request_uri without a pending login', async () => {
    const browser = stack.browser();
    const res = await browser.navigate(
      `${stack.appUrl}/callback?error=invalid_request_uri&iss=${encodeURIComponent(stack.issuer)}`,
    );
    expect(res.status).toBe(400);
    expect(res.body).toContain('<code>authorization_error</code>');
  });

  it('refuses an invalid_request_uri from another issuer (iss_mismatch)', async () => {
    const browser = stack.browser();
    await browser.navigate(`${stack.appUrl}/login`);
    const res = await browser.navigate(
      `${stack.appUrl}/callback?error=invalid_request_uri&iss=https%3A%2F%2Fevil.example`,
    );
    expect(res.status).toBe(400);
    expect(res.body).toContain('iss_mismatch');
  });
});
