/**
 * Run the sample app against a real AS configured by environment variables (see the README):
 * `npm run sample`. Listens on 127.0.0.1:PORT (default 3000); HOST overrides the interface.
 *
 * @module
 */
import { ConfigError, type ParLoginMiddleware } from '../src/index.js';
import { createApp, PAR_LOGIN_LOCAL } from './app.js';
import { listen } from './listen.js';
import { explainListenFailure, portFromEnv } from './ports.js';
import { onShutdown } from './shutdown.js';

const port = portFromEnv(process.env, 'PORT', 3000);
if (typeof port === 'string') {
  console.error(port);
  process.exit(1);
}
const host = process.env.HOST ?? '127.0.0.1';

let app: ReturnType<typeof createApp>;
try {
  app = createApp();
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  console.error(
    `${err.message}\n\nSee README.md, "Configuration", or run \`npm run demo\` for a ready-made setup.`,
  );
  process.exit(1);
}
let listening: Awaited<ReturnType<typeof listen>>;
try {
  listening = await listen(port.port, host, app);
} catch (err) {
  const explained = explainListenFailure(err, [port], 'npm run sample');
  if (explained === undefined) throw err;
  console.error(explained);
  process.exit(1);
}
console.log(`Sample app listening on ${listening.url}`);
onShutdown(
  () => listening.close(),
  () => (app.locals[PAR_LOGIN_LOCAL] as ParLoginMiddleware).close(),
);
