/**
 * Cookie tossing against a custom session cookie name on https (security review finding 2), with
 * oidc-provider. A sibling subdomain (`evil.example.com` beside `app.example.com`) can set cookies
 * for the whole parent domain with `Domain=example.com`, and the app's browser sends them back
 * looking like its own: only a name with the `__Host-` prefix is out of its reach, since a browser
 * refuses a `__Host-` cookie that carries a `Domain` (RFC 6265bis §4.1.3.2).
 *
 * The attack: the attacker starts a login, signs in at the AS as themself and stops before the
 * callback, keeping the callback URL (code and state) and their pending-login cookie's value. The
 * sibling plants that value in the victim's browser under the name the app would read, and the
 * victim is led to the callback URL. If the app read that cookie, the victim would finish the
 * attacker's login and work in the attacker's account (login CSRF, RFC 9700 §4.7.1).
 *
 * The app is served over TLS (the test PKI's certificate for 127.0.0.1) so that its `baseUrl` is
 * https, with `sessionCookieName: 'myapp'`: its cookies are `__Host-myapp…`. A host cookie the test
 * stores in the victim's jar stands for the sibling's domain cookie: the browser presents both the
 * same way, as `name=value`.
 */
import { createServer, type Server } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ClientMetadata } from 'oidc-provider';
import { Agent, getGlobalDispatcher, setGlobalDispatcher, type Dispatcher } from 'undici';
import type { Browser, Hop } from '../helpers/browser.js';
import { createTestPki, type TestPki } from '../helpers/certs.js';
import { startStack, type Stack } from '../helpers/stack.js';

const JSON_FETCH = { accept: 'application/json', 'sec-fetch-mode': 'cors' };
/** The page that leads the victim to the callback URL. */
const ATTACKER_PAGE = 'https://evil.example';

let pki: TestPki;
let tlsServer: Server;
let appUrl: string;
let stack: Stack;
let previousDispatcher: Dispatcher;

beforeAll(async () => {
  pki = createTestPki();
  tlsServer = createServer({ key: pki.server.key, cert: pki.server.cert });
  await new Promise<void>((resolve) => tlsServer.listen(0, '127.0.0.1', resolve));
  appUrl = `https://127.0.0.1:${(tlsServer.address() as { port: number }).port}`;
  // The test browsers trust the test CA, as a browser trusts a public one.
  previousDispatcher = getGlobalDispatcher();
  setGlobalDispatcher(new Agent({ connect: { ca: pki.ca.cert } }));
  stack = await startStack({
    overrides: { baseUrl: appUrl, sessionCookieName: 'myapp' },
    configureAs: (configuration) => {
      for (const client of configuration.clients as ClientMetadata[]) {
        client.redirect_uris = [`${appUrl}/callback`];
        client.post_logout_redirect_uris = [`${appUrl}/`];
      }
    },
  });
  tlsServer.on('request', stack.app);
});
afterAll(async () => {
  tlsServer.closeAllConnections();
  await new Promise((resolve) => tlsServer.close(resolve));
  await stack.close();
  const agent = getGlobalDispatcher();
  setGlobalDispatcher(previousDispatcher);
  await agent.close();
  pki.remove();
});

/** The attacker's half-finished login: the callback URL the AS sent, and their pending-login cookie. */
async function attackersLogin(): Promise<{ callbackUrl: string; flow: string; value: string }> {
  const attacker = stack.browser();
  const { callbackUrl } = await attacker.stepUntilCallback(appUrl, { user: 'mallory' });
  const cookie = attacker.jar.all().find((c) => /^(__Host-)?myapp-tx-/.test(c.name));
  expect(cookie).toBeDefined();
  return { callbackUrl, flow: cookie!.name.replace(/^(__Host-)?myapp-tx-/, ''), value: cookie!.value };
}

/** A victim's browser holding `name=value`, as if another site had planted it. */
function victimWith(name: string, value: string): Browser {
  const victim = stack.browser();
  victim.jar.store(new URL(appUrl), `${name}=${value}; Path=/; Secure; SameSite=Lax`);
  return victim;
}

/** The victim follows the attacker's link to the callback URL, and on as far as the app sends it. */
async function followLink(victim: Browser, callbackUrl: string): Promise<Hop> {
  const arrived = await victim.navigate(callbackUrl, { initiator: ATTACKER_PAGE });
  if (arrived.status === 303 && arrived.location?.startsWith(appUrl)) await victim.follow(arrived);
  return arrived;
}

const tokenRequests = (): number => stack.record.filter((r) => r.endpoint === 'token').length;

describe('a pending-login cookie planted by a sibling subdomain (cookie tossing)', () => {
  it('names every cookie of a configured session cookie name with the __Host- prefix on https', async () => {
    expect(stack.middleware().config.sessionCookieName).toBe('__Host-myapp');
    const login = await stack.browser().navigate(`${appUrl}/login`);
    expect(login.status).toBe(303);
    expect([login.headers['set-cookie']].flat()).toEqual([
      expect.stringMatching(
        /^__Host-myapp-tx-[\w-]{10}=[\w.-]+; Max-Age=\d+; Path=\/; HttpOnly; Secure; SameSite=Lax$/,
      ),
    ]);
  });

  it("does not log the victim into the attacker's account with a cookie the sibling can set", async () => {
    const { callbackUrl, flow, value } = await attackersLogin();
    const tokensBefore = tokenRequests();
    const victim = victimWith(`myapp-tx-${flow}`, value);

    const arrived = await followLink(victim, callbackUrl);
    // No session, and nothing of the attacker's identity: the code was never even exchanged.
    const me = await victim.request(`${appUrl}/me`, { headers: JSON_FETCH });
    expect(me.status).toBe(401);
    expect(victim.seen.map((hop) => hop.body).join('\n')).not.toMatch(/mallory/i);
    expect(tokenRequests()).toBe(tokensBefore);
    expect(victim.jar.all().map((c) => c.name)).not.toContain('__Host-myapp');

    // The victim's browser is anonymous and navigating: the response, unknown to it, starts a fresh login.
    expect(arrived.status).toBe(303);
    const fresh = new URL(arrived.location!);
    expect(fresh.origin).toBe(new URL(stack.issuer).origin);
    expect([...fresh.searchParams.keys()]).toEqual(['client_id', 'request_uri']);
    expect(stack.logs).toContainEqual(
      expect.objectContaining({ level: 'warn', code: 'login_restarted', cause: 'state_unknown' }),
    );
    // A request that is not a navigation gets the coded error itself.
    const fetched = await victim.request(callbackUrl, { headers: JSON_FETCH, initiator: ATTACKER_PAGE });
    expect(fetched.status).toBe(400);
    expect(JSON.parse(fetched.body)).toMatchObject({ error: 'state_unknown' });
    expect(tokenRequests()).toBe(tokensBefore);
  });

  it('reads the __Host- cookie: planted under that name (no sibling can), the same login completes', async () => {
    // The control: the app's own name for the same value finishes the attacker's login, so the test
    // above tells a refused cookie from a login that failed for another reason.
    const { callbackUrl, flow, value } = await attackersLogin();
    const victim = victimWith(`__Host-myapp-tx-${flow}`, value);
    const arrived = await followLink(victim, callbackUrl);
    expect(arrived.status).toBe(303);
    expect(arrived.location).toBe(`${appUrl}/`);
    const me = await victim.request(`${appUrl}/me`, { headers: JSON_FETCH });
    expect(me.status).toBe(200);
    expect((JSON.parse(me.body) as { claims: { sub: string } }).claims.sub).toBe('mallory');
  });
});
