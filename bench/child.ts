/**
 * Entry point of a bench child process: waits for `init` over IPC, starts one server (the AS, the
 * scripted AS, or one app), then answers the parent's calls (CPU, memory, session store) until
 * `stop`. Run by {@link startChild}; never on its own.
 *
 * @module
 */
import type { RequestListener } from 'node:http';
import type { Configuration } from 'oidc-provider';
import './store-probe.js';
import { listen } from '../sample-app/listen.js';
import type { BuiltApp } from './apps.js';
import type { AsFeature, CallMessage, ChildCalls, ChildInit, ReplyMessage } from './protocol.js';
import { memoryStoreKeys, storedSession } from './store-probe.js';

interface Running {
  url: string;
  app?: BuiltApp;
  close(): Promise<void>;
}

let running: Running | undefined;

/**
 * oidc-provider's settings of each {@link AsFeature} (merged into its defaults): JAR accepted, not
 * required, so that clients pushing plain forms are served as before; DPoP (on by default in
 * oidc-provider 9) without nonces.
 */
const AS_FEATURES: Readonly<Record<AsFeature, { enabled: boolean }>> = {
  requestObjects: { enabled: true },
  dPoP: { enabled: true },
};

/** The `configure` hook of the demo AS that turns `features` on. */
function enableFeatures(features: readonly AsFeature[]): (configuration: Configuration) => void {
  return (configuration) => {
    configuration.features = { ...configuration.features };
    for (const feature of features)
      Object.assign(configuration.features, { [feature]: { ...AS_FEATURES[feature] } });
  };
}

async function start(init: ChildInit): Promise<Running> {
  if (init.role === 'as') {
    const { createDemoAuthorizationServer } = await import('../sample-app/demo-as.js');
    const as = await createDemoAuthorizationServer({
      clients: init.clients,
      port: init.port,
      configure: enableFeatures(init.features ?? []),
    });
    return { url: as.url, close: () => as.close() };
  }
  const listening = await listen(init.port, '127.0.0.1');
  const app = await build(init, listening.url);
  if ('handler' in app) listening.server.on('request', app.handler);
  else listening.server.on('request', app);
  return {
    url: listening.url,
    ...('handler' in app ? { app } : {}),
    close: async () => {
      await listening.close();
      if ('handler' in app) await app.close();
    },
  };
}

/** Build the server of a role; each role loads only the modules it needs. */
async function build(
  init: Exclude<ChildInit, { role: 'as' }>,
  url: string,
): Promise<BuiltApp | RequestListener> {
  if (init.role === 'scripted-as') return (await import('./scripted-as.js')).scriptedAuthorizationServer(url);
  const apps = await import('./apps.js');
  switch (init.role) {
    case 'ours':
      return apps.oursApp(init.options);
    case 'eoc':
      return apps.eocApp(url, init.settings);
    case 'bare':
      return apps.bareApp();
    case 'floor':
      return apps.floorApp(url, init.settings);
    case 'bare-session':
      return apps.bareSessionApp(init.secret, init.cookieName, init.store);
  }
}

function gc(): void {
  const collect = (globalThis as { gc?: () => void }).gc;
  if (collect === undefined) throw new Error('bench children need --expose-gc');
  collect();
  collect();
}

const handlers: {
  [T in keyof ChildCalls]: (
    payload: ChildCalls[T]['in'],
  ) => Promise<ChildCalls[T]['out']> | ChildCalls[T]['out'];
} = {
  init: async (init) => {
    running = await start(init);
    return { url: running.url };
  },
  cpu: () => process.cpuUsage(),
  mem: () => {
    gc();
    const { heapUsed, rss } = process.memoryUsage();
    return { heapUsed, rss };
  },
  keys: () => memoryStoreKeys(),
  sharedKeys: () => running?.app?.sharedKeys?.() ?? 0,
  session: ({ sid }) => storedSession(sid),
  seed: async ({ sid, json }) => {
    if (running?.app?.seed === undefined) throw new Error('this child cannot seed sessions');
    await running.app.seed(sid, json);
    return null;
  },
  stop: async () => {
    await running?.close();
    return null;
  },
};

process.on('message', (message: CallMessage) => {
  const handler = handlers[message.type] as (payload: unknown) => unknown;
  void Promise.resolve()
    .then(() => handler(message.payload))
    .then(
      (value): ReplyMessage => ({ id: message.id, ok: true, value: value ?? null }),
      (err: unknown): ReplyMessage => ({
        id: message.id,
        ok: false,
        error: err instanceof Error ? (err.stack ?? err.message) : String(err),
      }),
    )
    .then((reply) =>
      process.send!(reply, () => {
        if (message.type === 'stop') process.exit(0);
      }),
    );
});
