/**
 * The whole product on a real Redis Cluster (3 masters, 3 replicas) and a real Sentinel group
 * (a master, a replica, 3 Sentinels), configured from the environment as a deployment would
 * (`REDIS_CLUSTER_NODES`, `REDIS_SENTINELS` + `REDIS_SENTINEL_NAME`), three instances behind one
 * oidc-provider: a login started on one instance finishes on another, the session is served by
 * the third, the access token refreshes once across them, logout ends it everywhere, and a
 * back-channel logout received by one instance ends the sessions every instance serves.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PAR_LOGIN_LOCAL } from '../../sample-app/app.js';
import { listen, type Listening } from '../../sample-app/listen.js';
import { configFromEnv, type ParLoginMiddleware, type ParLoginOptions } from '../../src/index.js';
import type { Browser } from '../helpers/browser.js';
import { startRedisCluster, type TestRedisCluster } from '../helpers/redis-cluster.js';
import { startRedisSentinel, type TestRedisSentinel } from '../helpers/redis-sentinel.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { tokenApp } from '../helpers/token-app.js';

const JSON_FETCH = { accept: 'application/json', 'sec-fetch-mode': 'cors' };
/** Access tokens live 10 s and are refreshed 9 s before they expire: due after 1 s. */
const TOKEN_TTL_SECONDS = 10;

interface Topology {
  name: string;
  start(): Promise<{ env: NodeJS.ProcessEnv; close(): Promise<void> }>;
}

const TOPOLOGIES: Topology[] = [
  {
    name: 'a Redis Cluster',
    async start() {
      const cluster: TestRedisCluster = await startRedisCluster();
      return { env: { REDIS_CLUSTER_NODES: cluster.urls.join(',') }, close: () => cluster.close() };
    },
  },
  {
    name: 'a Redis Sentinel group',
    async start() {
      const sentinel: TestRedisSentinel = await startRedisSentinel();
      return {
        env: { REDIS_SENTINELS: sentinel.sentinelUrls.join(', '), REDIS_SENTINEL_NAME: sentinel.name },
        close: () => sentinel.close(),
      };
    },
  },
];

describe.each(TOPOLOGIES)('on $name', (topology) => {
  let redis: Awaited<ReturnType<Topology['start']>>;
  let stack: Stack;
  const others: Array<{ server: Listening; middleware: ParLoginMiddleware }> = [];
  const refreshes = (): number =>
    stack.record.filter((r) => r.endpoint === 'token' && r.body.grant_type === 'refresh_token').length;

  beforeAll(async () => {
    redis = await topology.start();
    // The Redis options come from the environment, as a deployment sets them.
    const fromEnv: ParLoginOptions = configFromEnv(redis.env);
    stack = await startStack({
      buildApp: tokenApp() as never,
      as: { accessTokenTtl: TOKEN_TTL_SECONDS },
      overrides: { ...fromEnv, refreshSkewSeconds: TOKEN_TTL_SECONDS - 1 },
    });
    for (let i = 0; i < 2; i += 1) {
      const app = tokenApp()(stack.options);
      const middleware = app.locals[PAR_LOGIN_LOCAL] as ParLoginMiddleware;
      others.push({ server: await listen(0, '127.0.0.1', app), middleware });
    }
    await Promise.all([stack.middleware(), ...others.map((o) => o.middleware)].map((m) => m.ready()));
  }, 60_000);
  afterAll(async () => {
    for (const other of others) {
      await other.server.close();
      await other.middleware.close();
    }
    await stack.close();
    await redis.close();
  });

  /** The three instances' base URLs: A (the stack's), B and C. */
  const urls = (): [string, string, string] => [stack.appUrl, others[0]!.server.url, others[1]!.server.url];
  const on = (url: string, base: string): string => url.replace(stack.appUrl, base);
  async function me(browser: Browser, base: string): Promise<number> {
    return (await browser.request(`${base}/me`, { headers: JSON_FETCH })).status;
  }
  async function tokenDigest(browser: Browser, base: string): Promise<string> {
    const hop = await browser.request(`${base}/call`, { headers: JSON_FETCH });
    expect(hop.status).toBe(200);
    return (JSON.parse(hop.body) as { token: string }).token;
  }

  it('logs in across instances, refreshes once, and logs out everywhere', async () => {
    const [a, b, c] = urls();
    const browser = stack.browser();
    const { callbackUrl } = await browser.stepUntilCallback(a, { returnTo: '/profile' });
    const callback = await browser.navigate(on(callbackUrl, b));
    expect(callback.status).toBe(303);
    expect(await me(browser, c)).toBe(200);
    const first = await tokenDigest(browser, b);

    await new Promise((resolve) => setTimeout(resolve, 1_200)); // the token is now due for a refresh
    const before = refreshes();
    const digests = await Promise.all([a, b, c, a, b, c].map((base) => tokenDigest(browser, base)));
    expect(refreshes() - before).toBe(1);
    expect(new Set(digests).size).toBe(1);
    expect(digests[0]).not.toBe(first);

    const page = await browser.navigate(`${c}/logout`);
    const out = await browser.submitForm(page.body, page.url);
    expect(out.status).toBe(303);
    expect(new URL(out.location!).origin).toBe(new URL(stack.issuer).origin);
    for (const base of [a, b, c]) expect(await me(browser, base)).toBe(401);
  });

  it('ends, on every instance, the sessions a back-channel logout names', async () => {
    const [a, b, c] = urls();
    const browser = stack.browser();
    const { callbackUrl } = await browser.stepUntilCallback(a, { returnTo: '/profile' });
    expect((await browser.navigate(on(callbackUrl, c))).status).toBe(303);
    const { claims } = JSON.parse((await browser.request(`${b}/me`, { headers: JSON_FETCH })).body) as {
      claims: { sub: string; sid: string };
    };
    const client = await stack.provider.Client.find('basic-client');
    // The AS's own call, to the stack's instance (A), whose registered URI it is.
    await (
      client as unknown as { backchannelLogout(sub: string, sid: string): Promise<void> }
    ).backchannelLogout(claims.sub, claims.sid);
    for (const base of [a, b, c]) expect(await me(browser, base)).toBe(401);
    expect(stack.logs.filter((r) => r.level === 'error')).toEqual([]);
  });
});
