/**
 * Two opt-ins for servers that ask more of a client, against oidc-provider configured for them:
 * front-channel extras (`frontChannelParams`: parameters repeated in the browser leg beside
 * `client_id` and `request_uri`, RFC 9126 §4) and per-request redirect URIs on configured origins
 * (`redirectOrigins`), which an AS accepts unregistered only in an authenticated push (RFC 9126 §2.4).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Configuration } from 'oidc-provider';
import { createApp } from '../../sample-app/app.js';
import type { LoginOptions, ParLoginOptions } from '../../src/index.js';
import type { Browser, Hop } from '../helpers/browser.js';
import { backChannel, startStack, type Stack } from '../helpers/stack.js';

/** Walk the AS's login and consent pages from `start` until the browser is back on `origin`. */
async function finishAtAs(browser: Browser, start: Hop, origin: string): Promise<Hop[]> {
  const pages = await browser.follow(start);
  for (
    let i = 0;
    i < 3 && pages.at(-1)!.status === 200 && new URL(pages.at(-1)!.url).origin !== origin;
    i += 1
  ) {
    const page = pages.at(-1)!;
    const posted = await browser.submitForm(
      page.body,
      page.url,
      page.body.includes('name="login"') ? { login: 'alice', password: 'x' } : {},
    );
    pages.push(posted, ...(await browser.follow(posted)));
  }
  return pages;
}

describe('frontChannelParams against oidc-provider', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ overrides: { frontChannelParams: ['response_type', 'scope'] } });
  });
  afterAll(() => stack.close());

  it('repeats response_type and scope in the browser leg as pushed, and the AS logs the user in', async () => {
    const before = stack.record.length;
    const hops = await stack.browser().login(stack.appUrl, { returnTo: '/profile' });
    expect(hops.at(-1)!.url).toBe(`${stack.appUrl}/profile`);
    const visit = stack.record.slice(before).find((r) => r.endpoint === 'authorization')!;
    const query = new URL(visit.url!, stack.issuer).searchParams;
    expect([...query.keys()]).toEqual(['client_id', 'request_uri', 'response_type', 'scope']);
    const par = backChannel(stack.record.slice(before))[0]!;
    expect([query.get('response_type'), query.get('scope')]).toEqual([
      par.body.response_type,
      par.body.scope,
    ]);
    expect(query.get('response_type')).toBe('code');
  });
});

describe('per-request redirect URIs against oidc-provider', () => {
  let stack: Stack;
  let tenantUrl: string;
  const next: { options: LoginOptions } = { options: {} };
  beforeAll(async () => {
    stack = await startStack({
      // The app answers on 127.0.0.1 (its baseUrl) and on localhost, a second origin standing in for a tenant's.
      buildApp: ((options: ParLoginOptions) => {
        const app = createApp({
          ...options,
          redirectOrigins: [options.baseUrl!.replace('127.0.0.1', 'localhost')],
        });
        app.get('/go', (_req, res) => void res.login(next.options));
        return app;
      }) as never,
      configureAs: (config: Configuration) => {
        config.features!.pushedAuthorizationRequests = {
          ...config.features!.pushedAuthorizationRequests,
          allowUnregisteredRedirectUris: true,
        };
      },
    });
    tenantUrl = stack.appUrl.replace('127.0.0.1', 'localhost');
  });
  afterAll(() => stack.close());

  it('pushes the unregistered redirect URI, exchanges the code with it, and returns to that origin', async () => {
    next.options = { redirectUri: `${tenantUrl}/callback`, returnTo: '/profile' };
    const before = stack.record.length;
    const browser = stack.browser();
    const start = await browser.navigate(`${tenantUrl}/go`);
    expect(start.status).toBe(303);
    const pages = await finishAtAs(browser, start, tenantUrl);
    expect(pages.at(-1)!.url).toBe(`${tenantUrl}/profile`);
    expect(pages.at(-1)!.body).toContain('Alice Example');
    const [par, token] = backChannel(stack.record.slice(before));
    expect(par).toMatchObject({
      endpoint: 'par',
      status: 201,
      body: { redirect_uri: `${tenantUrl}/callback` },
    });
    expect(token).toMatchObject({
      endpoint: 'token',
      status: 200,
      body: { redirect_uri: `${tenantUrl}/callback` },
    });
  });

  it('the same AS refuses that redirect URI without allowUnregisteredRedirectUris (the AS really checks it)', async () => {
    const strict = await startStack({
      buildApp: ((options: ParLoginOptions) => {
        const app = createApp({
          ...options,
          redirectOrigins: [options.baseUrl!.replace('127.0.0.1', 'localhost')],
        });
        app.get('/go', (_req, res) => void res.login(next.options));
        return app;
      }) as never,
    });
    try {
      next.options = { redirectUri: `${strict.appUrl.replace('127.0.0.1', 'localhost')}/callback` };
      const res = await strict.browser().request(`${strict.appUrl}/go`, {
        headers: { accept: 'application/json', 'sec-fetch-mode': 'cors' },
      });
      expect(res.status).toBe(502);
      expect(JSON.parse(res.body)).toMatchObject({ error: 'par_error' });
    } finally {
      await strict.close();
    }
  });
});
