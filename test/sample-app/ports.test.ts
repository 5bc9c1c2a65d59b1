/**
 * `npm run demo` and `npm run sample` with a port that is taken or malformed: one sentence naming
 * the variable and a command that works, exit code 1, no stack trace.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { listen, type Listening } from '../../sample-app/listen.js';

/** Run a sample-app script with `env` added; its exit code and stderr. */
async function run(
  script: string,
  env: Record<string, string>,
): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', `sample-app/${script}`], {
    env: { ...process.env, NODE_OPTIONS: '', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stderr };
}

describe('the demo and sample ports', () => {
  let taken: Listening;
  beforeAll(async () => {
    taken = await listen(0, '127.0.0.1');
  });
  afterAll(() => taken.close());
  const takenPort = () => String(new URL(taken.url).port);

  it.each([
    ['demo.ts', 'PORT', { DEMO_AS_PORT: '0' }, 'npm run demo'],
    ['demo.ts', 'DEMO_AS_PORT', { PORT: '0' }, 'npm run demo'],
  ])(
    '%s explains that %s is in use',
    async (script, variable, others, command) => {
      const { code, stderr } = await run(script, { ...others, [variable]: takenPort() });
      expect(code).toBe(1);
      expect(stderr).toContain(`${variable} (${takenPort()}) is already in use`);
      expect(stderr).toContain(command);
      expect(stderr).not.toMatch(/^\s+at /m);
    },
    30_000,
  );

  it('sample.ts explains that PORT is in use', async () => {
    const { code, stderr } = await run('server.ts', {
      PORT: takenPort(),
      OIDC_ISSUER: 'https://as.example',
      OIDC_CLIENT_ID: 'app',
      OIDC_CLIENT_SECRET: 's'.repeat(32),
      APP_BASE_URL: 'http://127.0.0.1:3000',
      SESSION_SECRET: 'x'.repeat(40),
    });
    expect(code).toBe(1);
    expect(stderr).toContain(`PORT (${takenPort()}) is already in use`);
    expect(stderr).toContain('npm run sample');
    expect(stderr).not.toMatch(/^\s+at /m);
  }, 30_000);

  it('refuses a port that is not a number, naming the variable', async () => {
    const { code, stderr } = await run('demo.ts', { PORT: '30o0' });
    expect(code).toBe(1);
    expect(stderr).toContain('PORT must be a port number from 0 to 65535 (got "30o0").');
    expect(stderr).not.toMatch(/^\s+at /m);
  }, 30_000);
});
