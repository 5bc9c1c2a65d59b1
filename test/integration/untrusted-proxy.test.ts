/**
 * Behind a TLS-terminating proxy that Express was not told to trust (no `trust proxy`), against
 * oidc-provider: every login works, the second one in the same browser too, and an error that
 * names the fix is logged at most once a minute.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ClientMetadata } from 'oidc-provider';
import { Agent, getGlobalDispatcher, setGlobalDispatcher, type Dispatcher } from 'undici';
import { createTestPki, type TestPki } from '../helpers/certs.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { startTlsProxy, type TlsProxy } from '../helpers/tls-proxy.js';
import { listen, type Listening } from '../../sample-app/listen.js';

let pki: TestPki;
let proxy: TlsProxy;
let app: Listening;
let stack: Stack;
let previousDispatcher: Dispatcher;

beforeAll(async () => {
  pki = createTestPki();
  app = await listen(0, '127.0.0.1');
  proxy = await startTlsProxy(pki, app.url);
  previousDispatcher = getGlobalDispatcher();
  setGlobalDispatcher(new Agent({ connect: { ca: pki.ca.cert } }));
  stack = await startStack({
    overrides: { baseUrl: proxy.url },
    configureAs: (configuration) => {
      for (const client of configuration.clients as ClientMetadata[]) {
        client.redirect_uris = [`${proxy.url}/callback`];
        client.post_logout_redirect_uris = [`${proxy.url}/`];
      }
    },
  });
  app.server.on('request', stack.app);
});
afterAll(async () => {
  await proxy.close();
  await app.close();
  await stack.close();
  const agent = getGlobalDispatcher();
  setGlobalDispatcher(previousDispatcher);
  await agent.close();
  pki.remove();
});

describe('a TLS proxy Express does not trust', () => {
  it('logs in twice in one browser, and says once what to set', async () => {
    const browser = stack.browser();
    const me = () => browser.request(`${proxy.url}/me`, { headers: { accept: 'application/json' } });
    const sessionCookie = () => browser.jar.all().find((cookie) => cookie.name === '__Host-parlogin')?.value;
    await browser.login(proxy.url);
    expect((await me()).status).toBe(200);
    const first = sessionCookie();
    // The browser now has a session: this login goes through express-session's regeneration, whose
    // new cookie express-session used to withhold (it saw plain http), leaving the browser logged out.
    await browser.login(proxy.url);
    expect((await me()).status).toBe(200);
    expect(sessionCookie()).toBeDefined();
    expect(sessionCookie()).not.toBe(first);

    const errors = stack.logs.filter((record) => record.code === 'proxy_not_trusted');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ level: 'error' });
    expect(errors[0]!.msg).toContain("app.set('trust proxy', 1)");
  });
});
