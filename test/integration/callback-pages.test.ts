/**
 * The middleware's own pages against oidc-provider: an AS's words are shown only for a response to
 * a login this browser started (anyone can send a browser to the callback with a text of their
 * choosing), and no page of the middleware can be framed.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startStack, type Stack } from '../helpers/stack.js';

const ATTACKER_TEXT = 'Your account is locked. Call +1-555-0100 now';
const JSON_FETCH = { accept: 'application/json', 'sec-fetch-mode': 'cors' };
const EVIL = 'https://evil.example';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack();
});
afterAll(() => stack.close());

const iss = (): string => `iss=${encodeURIComponent(stack.issuer)}`;

/** `url` with `code` replaced by an error response carrying `description`. */
function asError(url: string, error: string, description: string): string {
  const changed = new URL(url);
  changed.searchParams.delete('code');
  changed.searchParams.set('error', error);
  changed.searchParams.set('error_description', description);
  return changed.href;
}

describe("the AS's words on the error page", () => {
  it('are not shown for a response no login of this browser matches', async () => {
    const forged = [
      `/callback?error=invalid_request_uri&error_description=${encodeURIComponent(ATTACKER_TEXT)}`,
      `/callback?error=access_denied&state=${'A'.repeat(43)}&error_description=${encodeURIComponent(ATTACKER_TEXT)}`,
      `/callback?error=${encodeURIComponent('<b>Call 555</b>')}&error_description=x`,
    ];
    for (const forgedPath of forged) {
      // With the right iss: the forger knows the issuer.
      const path = `${forgedPath}&iss=${encodeURIComponent(stack.issuer)}`;
      const browser = stack.browser();
      const page = await browser.navigate(`${stack.appUrl}${path}`, { initiator: EVIL });
      const json = await browser.request(`${stack.appUrl}${path}`, { headers: JSON_FETCH, initiator: EVIL });
      for (const answer of [page, json]) {
        expect(answer.status).toBe(400);
        expect(answer.body).not.toContain('555');
      }
    }
  });

  it('show the code alone when no login matches, and no error at all without state', async () => {
    const page = await stack
      .browser()
      .navigate(`${stack.appUrl}/callback?error=invalid_request_uri&error_description=words&${iss()}`, {
        initiator: EVIL,
      });
    expect(page.body).toContain('<code>invalid_request_uri</code>');
    const odd = await stack
      .browser()
      .navigate(`${stack.appUrl}/callback?error=${encodeURIComponent('Call me')}&${iss()}`, {
        initiator: EVIL,
      });
    expect(odd.status).toBe(400);
    expect(odd.body).not.toContain('Call me');
  });

  it('go to the log record, not the page, when no login matches', async () => {
    const path = `/callback?error=invalid_request_uri&error_description=${encodeURIComponent(ATTACKER_TEXT)}`;
    const page = await stack.browser().navigate(`${stack.appUrl}${path}&${iss()}`, { initiator: EVIL });
    expect(page.body).not.toContain('555');
    expect(stack.logs.at(-1)).toMatchObject({
      code: 'authorization_error',
      as_error: 'invalid_request_uri',
      cause: expect.stringContaining(JSON.stringify(ATTACKER_TEXT)),
    });
  });

  it('are not shown for a stateless expiry, even with a pending login in this browser', async () => {
    const browser = stack.browser();
    expect((await browser.navigate(`${stack.appUrl}/login`)).status).toBe(303);
    const path = `/callback?error=invalid_request_uri&error_description=${encodeURIComponent(ATTACKER_TEXT)}&${iss()}`;
    // The first such response pushes the pending login again; the second finds it retried and fails.
    expect((await browser.navigate(`${stack.appUrl}${path}`, { initiator: EVIL })).status).toBe(303);
    const page = await browser.navigate(`${stack.appUrl}${path}`, { initiator: EVIL });
    expect(page.status).toBe(400);
    expect(page.body).toContain('<code>invalid_request_uri</code>');
    expect(page.body).not.toContain('555');
  });

  it("are shown for the AS's own error response to a login this browser started", async () => {
    const browser = stack.browser();
    // prompt=none without a session at the AS: oidc-provider answers login_required with a description.
    const hops = await browser.follow(`${stack.appUrl}/login?prompt=none`);
    const callback = new URL(hops.at(-1)!.url);
    expect(callback.pathname).toBe('/callback');
    expect(callback.searchParams.get('error')).toBe('login_required');
    const description = callback.searchParams.get('error_description');
    expect(description).toMatch(/\w/);
    const page = hops.at(-1)!;
    expect(page.status).toBe(400);
    expect(page.body).toContain('<code>login_required</code>');
    expect(page.body).toContain(description);
  });

  it('are shown for a response to a login this browser started', async () => {
    const browser = stack.browser();
    const { callbackUrl } = await browser.stepUntilCallback(stack.appUrl);
    const page = await browser.navigate(asError(callbackUrl, 'access_denied', 'The user said no'));
    expect(page.status).toBe(400);
    expect(page.body).toContain('<code>access_denied</code>');
    expect(page.body).toContain('The user said no');
  });
});

describe('framing and other page headers', () => {
  const PAGE = {
    'content-security-policy':
      "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'",
    'x-frame-options': 'DENY',
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  };

  it('are on the error page and the logout confirmation page', async () => {
    const browser = stack.browser();
    const error = await browser.navigate(`${stack.appUrl}/callback?code=x`);
    expect(error.status).toBe(400);
    expect(error.headers).toMatchObject(PAGE);
    await browser.login(stack.appUrl);
    const confirm = await browser.navigate(`${stack.appUrl}/logout`);
    expect(confirm.status).toBe(200);
    expect(confirm.headers).toMatchObject(PAGE);
    // The page's form still logs out and leads to the AS (no form-action that would block the redirect).
    const posted = await browser.submitForm(confirm.body, confirm.url);
    expect(posted.status).toBe(303);
    expect(new URL(posted.location!).origin).toBe(new URL(stack.issuer).origin);
  });
});
