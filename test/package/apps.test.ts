/**
 * The package as a user gets it: `npm pack`, installed from the tarball into three apps outside the
 * repository (test/package/apps/), each compiled as its user would and logged in through against
 * the demo AS (oidc-provider, PAR required):
 *
 * - ES module TypeScript on Express 5, `strict`, with no `!`;
 * - CommonJS JavaScript on Express 4 with its own express-session;
 * - CommonJS TypeScript (`.cts`, `module: node16`) on Express 4.
 *
 * Installing needs the npm registry (or npm's cache); it is the slowest test, by design.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createDemoAuthorizationServer, type DemoAuthorizationServer } from '../../sample-app/demo-as.js';
import { Browser } from '../helpers/browser.js';
import { freePort } from '../helpers/free-port.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const sources = join(root, 'test', 'package', 'apps');
const run = promisify(execFile);
const SECRET = 'package-test-client-secret-0123456789';
const SESSION_SECRET = 'package-test-session-secret-0123456789';

/** One app: its source, how it is installed and compiled, and how it is started. */
interface AppSpec {
  readonly name: string;
  readonly packageJson: Record<string, unknown>;
  readonly install: readonly string[];
  readonly files: Readonly<Record<string, string>>;
  readonly tsconfig?: Record<string, unknown>;
  /** The file node runs, after compilation. */
  readonly main: string;
}

const APPS: readonly AppSpec[] = [
  {
    name: 'esm-ts',
    packageJson: { name: 'esm-ts-app', private: true, type: 'module' },
    install: ['express@5', 'express-session@1', '@types/express@5', '@types/express-session@1'],
    files: { 'app.ts': 'esm-ts-app.ts' },
    tsconfig: {
      compilerOptions: {
        module: 'nodenext',
        moduleResolution: 'nodenext',
        target: 'ES2022',
        strict: true,
        skipLibCheck: true,
        types: ['node'],
        outDir: 'out',
      },
      files: ['app.ts'],
    },
    main: 'out/app.js',
  },
  {
    name: 'cjs-js',
    packageJson: { name: 'cjs-js-app', private: true },
    install: ['express@4', 'express-session@1'],
    files: { 'app.js': 'cjs-js-app.js' },
    main: 'app.js',
  },
  {
    name: 'cjs-ts',
    packageJson: { name: 'cjs-ts-app', private: true },
    install: ['express@4', 'express-session@1', '@types/express@4', '@types/express-session@1'],
    files: { 'app.cts': 'cjs-ts-app.cts' },
    tsconfig: {
      compilerOptions: {
        module: 'node16',
        moduleResolution: 'node16',
        target: 'ES2022',
        strict: true,
        skipLibCheck: true,
        types: ['node'],
        outDir: 'out',
      },
      files: ['app.cts'],
    },
    main: 'out/app.cjs',
  },
];

let workDir: string;
let tarball: string;
let as: DemoAuthorizationServer;
const ports = new Map<string, number>();
const children: ChildProcess[] = [];

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'parlogin-apps-'));
  const { stdout } = await run('npm', ['pack', '--silent', '--pack-destination', workDir], {
    cwd: root,
    maxBuffer: 64 << 20,
  });
  tarball = join(workDir, stdout.trim().split('\n').at(-1)!);
  for (const app of APPS) ports.set(app.name, await freePort());
  as = await createDemoAuthorizationServer({
    clients: APPS.map((app) => ({
      client_id: app.name,
      client_secret: SECRET,
      token_endpoint_auth_method: 'client_secret_basic',
      redirect_uris: [`http://127.0.0.1:${ports.get(app.name)}/callback`],
      post_logout_redirect_uris: [`http://127.0.0.1:${ports.get(app.name)}/`],
    })),
  });
}, 180_000);

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await as?.close();
  if (workDir !== undefined) await rm(workDir, { recursive: true, force: true });
});

/** Install and compile `app` in a folder of its own; the folder. */
async function build(app: AppSpec): Promise<string> {
  const dir = join(workDir, app.name);
  await run('mkdir', ['-p', dir]);
  await writeFile(join(dir, 'package.json'), JSON.stringify(app.packageJson));
  for (const [target, source] of Object.entries(app.files))
    await copyFile(join(sources, source), join(dir, target));
  const extra = app.tsconfig ? ['typescript@5.9', '@types/node@20'] : [];
  await run(
    'npm',
    [
      'install',
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
      '--loglevel=error',
      tarball,
      ...app.install,
      ...extra,
    ],
    { cwd: dir, maxBuffer: 64 << 20 },
  );
  if (app.tsconfig) {
    await writeFile(join(dir, 'tsconfig.json'), JSON.stringify(app.tsconfig));
    await run(join(dir, 'node_modules', '.bin', 'tsc'), ['-p', dir], { cwd: dir }).catch(
      (err: Error & { stdout?: string }) => {
        throw new Error(`${app.name} does not compile:\n${err.stdout ?? err.message}`);
      },
    );
  }
  return dir;
}

/** Start the built app and wait until it listens; its URL. */
async function start(app: AppSpec, dir: string): Promise<string> {
  const port = ports.get(app.name)!;
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, [app.main], {
    cwd: dir,
    env: {
      PATH: process.env.PATH,
      PORT: String(port),
      OIDC_ISSUER: as.issuer,
      OIDC_CLIENT_ID: app.name,
      OIDC_CLIENT_SECRET: SECRET,
      APP_BASE_URL: url,
      SESSION_SECRET,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const listening = new Promise<void>((resolve, reject) => {
    child.stdout.on('data', () => output.includes('listening') && resolve());
    child.once('exit', (code) => reject(new Error(`${app.name} exited with ${String(code)}:\n${output}`)));
  });
  await Promise.race([listening, once(child, 'error').then(([err]) => Promise.reject(err as Error))]);
  return url;
}

describe('the packed package in apps outside the repository', () => {
  it.each(APPS.map((app) => [app.name, app] as const))(
    '%s: installs, compiles and logs a user in',
    async (_name, app) => {
      const url = await start(app, await build(app));
      const browser = new Browser({ issuer: as.issuer });
      const anonymous = await browser.request(`${url}/whoami`, {
        headers: { accept: 'application/json', 'sec-fetch-mode': 'cors' },
      });
      expect(anonymous.status).toBe(401);
      const hops = await browser.login(url, { returnTo: '/whoami' });
      expect(hops.at(-1)!.url).toBe(`${url}/whoami`);
      expect(JSON.parse(hops.at(-1)!.body)).toMatchObject({ name: 'Alice Example', kind: app.name });
      expect(browser.asUrls.some((visited) => visited.includes('request_uri='))).toBe(true);
    },
    300_000,
  );
});
