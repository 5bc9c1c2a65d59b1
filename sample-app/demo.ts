/**
 * `npm run demo`: a local demo AS and the sample app, wired together, nothing to configure.
 *
 * The AS listens on 127.0.0.1:DEMO_AS_PORT (default 3001) with one confidential client for the
 * app (client_secret_basic, a secret made at start); the app listens on 127.0.0.1:PORT (default
 * 3000) and shows, after each step, what went over the back channel and what the browser carried.
 * SESSION_SECRET and OIDC_SCOPE are taken from the environment when set.
 *
 * @module
 */
import { startDemo } from './demo-stack.js';
import { explainListenFailure, portFromEnv, type PortSetting } from './ports.js';
import { onShutdown } from './shutdown.js';

const settings = [portFromEnv(process.env, 'PORT', 3000), portFromEnv(process.env, 'DEMO_AS_PORT', 3001)];
const problems = settings.filter((setting): setting is string => typeof setting === 'string');
if (problems.length > 0) {
  console.error(problems.join('\n'));
  process.exit(1);
}
const [app, as] = settings as [PortSetting, PortSetting];

let demo: Awaited<ReturnType<typeof startDemo>>;
try {
  demo = await startDemo({
    appPort: app.port,
    asPort: as.port,
    options: {
      ...(process.env.SESSION_SECRET ? { sessionSecret: process.env.SESSION_SECRET } : {}),
      ...(process.env.OIDC_SCOPE ? { scope: process.env.OIDC_SCOPE } : {}),
    },
  });
} catch (err) {
  const explained = explainListenFailure(err, settings as PortSetting[], 'npm run demo');
  if (explained === undefined) throw err;
  console.error(explained);
  process.exit(1);
}
onShutdown(() => demo.close());

console.log(`
  Demo authorization server: ${demo.issuer}
  Sample app:                ${demo.appUrl}

  Open ${demo.appUrl}/ in your browser and click "Log in".
  At the demo AS any user name and any password work (try "alice").

  Ctrl+C stops both.
`);
