/**
 * The doctor against a real authorization server (oidc-provider, PAR required), a real Redis, and
 * the scripted AS where a real one cannot be made to misbehave (no PAR endpoint, a lying issuer).
 * Every scenario asserts the line of the failing check, its fix, the exit code, and that no secret
 * is ever printed.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { runCli } from '../../src/doctor/cli.js';
import { runDoctor, type DoctorOptions, type DoctorReport } from '../../src/doctor/run-doctor.js';
import { startHostileAs, type HostileAs } from '../helpers/hostile-as.js';
import { refusedUrl } from '../helpers/hostile-stack.js';
import { startRedisCluster } from '../helpers/redis-cluster.js';
import { startRedisSentinel } from '../helpers/redis-sentinel.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { startStack, type Stack } from '../helpers/stack.js';

let stack: Stack;
let redis: TestRedis;
let hostile: HostileAs;
beforeAll(async () => {
  [stack, redis, hostile] = await Promise.all([startStack(), startRedis(), startHostileAs()]);
});
afterAll(async () => {
  await Promise.all([stack.close(), redis.close(), hostile.close()]);
});

const SESSION_SECRET = 'doctor-test-session-secret-0123456789abcdef';

/** The environment of the stack's basic client, as a deployment would set it. */
function basicEnv(): NodeJS.ProcessEnv {
  return {
    OIDC_ISSUER: stack.issuer,
    OIDC_CLIENT_ID: 'basic-client',
    OIDC_CLIENT_SECRET: stack.clientSecret,
    APP_BASE_URL: stack.appUrl,
    SESSION_SECRET,
  };
}

/** Run the CLI as `express-par-login doctor`, capturing what it prints. */
async function doctor(
  env: NodeJS.ProcessEnv,
  options: DoctorOptions = {},
): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(
    ['doctor'],
    env,
    {
      out: (text) => {
        out += text;
      },
      err: (text) => {
        err += text;
      },
    },
    options,
  );
  return { code, out, err };
}

const line = (report: DoctorReport, name: string) => report.results.filter((result) => result.name === name);

/** No secret of any environment used here ever reaches the output. */
function expectNoSecret(text: string): void {
  for (const secret of [stack.clientSecret, SESSION_SECRET, String(stack.privateJwk.d)])
    expect(text).not.toContain(secret);
}

describe('doctor against oidc-provider', () => {
  it('passes every check for a correct client_secret_basic configuration and exits 0', async () => {
    const { code, out } = await doctor({ ...basicEnv(), REDIS_URL: redis.url });
    expect(code).toBe(0);
    for (const name of [
      'Environment variables',
      'Issuer reachable',
      'Discovery consistent',
      'PAR endpoint',
      'Client authentication',
      'Redirect URI',
      'Redis',
      'Clock skew',
    ]) {
      expect(out).toMatch(new RegExp(`^  ok    ${name}: `, 'm'));
    }
    expect(out).toContain('the AS requires PAR for every client');
    expect(out).toContain(`${stack.appUrl}/callback accepted`);
    expect(out).toMatch(/^ {2}ok {4}Redis: .* \(Redis \d+\.\d+\.\d+\)$/m);
    expect(out).toMatch(/8 checks: 8 passed, 0 failed, 0 skipped\. All good\./);
    expectNoSecret(out);
  });

  it('passes with private_key_jwt, naming the key id and the assertion audience', async () => {
    const env = {
      ...basicEnv(),
      OIDC_CLIENT_ID: 'jwt-client',
      OIDC_CLIENT_SECRET: undefined,
      OIDC_CLIENT_AUTH_METHOD: 'private_key_jwt',
      OIDC_PRIVATE_KEY: JSON.stringify(stack.privateJwk),
    };
    const report = await runDoctor(env);
    expect(report.healthy).toBe(true);
    expect(line(report, 'Client authentication')[0]!.detail).toContain(`kid ${stack.privateJwk.kid}`);
    expectNoSecret(JSON.stringify(report));
  });

  it('fails client authentication with a wrong secret, says how to fix it, and exits 1', async () => {
    const wrong = `${stack.clientSecret}x`;
    const { code, out } = await doctor({ ...basicEnv(), OIDC_CLIENT_SECRET: wrong });
    expect(code).toBe(1);
    expect(out).toMatch(/^ {2}FAIL {2}Client authentication: .*invalid_client/m);
    expect(out).toMatch(/fix: Check that OIDC_CLIENT_ID=basic-client is registered/);
    expect(out).toMatch(/^ {2}skip {2}Redirect URI: /m);
    expect(out).not.toContain(wrong);
    expectNoSecret(out);
  });

  it('fails a private_key_jwt client whose key is not the registered one', async () => {
    const { generateKeyPair, exportJWK } = await import('jose');
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    const stranger = { ...(await exportJWK(privateKey)), kid: 'not-registered', alg: 'ES256' };
    const report = await runDoctor({
      ...basicEnv(),
      OIDC_CLIENT_ID: 'jwt-client',
      OIDC_CLIENT_SECRET: undefined,
      OIDC_CLIENT_AUTH_METHOD: 'private_key_jwt',
      OIDC_PRIVATE_KEY: JSON.stringify(stranger),
    });
    expect(report.healthy).toBe(false);
    const [auth] = line(report, 'Client authentication');
    expect(auth!.status).toBe('fail');
    expect(auth!.fix).toContain('kid not-registered');
    expect(JSON.stringify(report)).not.toContain(String(stranger.d));
  });

  it('fails the redirect URI when APP_BASE_URL is not the registered one, after authentication passed', async () => {
    const report = await runDoctor({ ...basicEnv(), APP_BASE_URL: 'http://localhost:1' });
    expect(line(report, 'Client authentication')[0]!.status).toBe('ok');
    const [redirect] = line(report, 'Redirect URI');
    expect(redirect!.status).toBe('fail');
    expect(redirect!.detail).toContain('http://localhost:1/callback refused');
    expect(redirect!.fix).toContain('Register http://localhost:1/callback');
    expect(report.healthy).toBe(false);
  });

  it('reports every bad variable at once and skips the checks that need them', async () => {
    const { code, out } = await doctor({
      OIDC_ISSUER: 'not a url',
      SESSION_SECRET: 'tiny-secret',
      OIDC_CLIENT_AUTH_METHOD: 'magic',
    });
    expect(code).toBe(1);
    const failures = out.split('\n').filter((text) => text.startsWith('  FAIL  Environment variables:'));
    expect(failures.length).toBeGreaterThanOrEqual(4);
    for (const name of [
      'OIDC_ISSUER',
      'OIDC_CLIENT_ID',
      'APP_BASE_URL',
      'SESSION_SECRET',
      'OIDC_CLIENT_AUTH_METHOD',
    ])
      expect(out).toContain(name);
    expect(out).toMatch(/^ {2}skip {2}Issuer reachable: fix the environment variables first/m);
    expect(out).not.toContain('tiny-secret'); // a secret's value is never echoed, even a bad one
  });

  it('gives each bad variable a fix that fits it: an integer range for numbers, the message for the rest', async () => {
    const report = await runDoctor({ ...basicEnv(), OIDC_PAR: 'sometimes', OIDC_HTTP_TIMEOUT_MS: 'soon' });
    const fixes = line(report, 'Environment variables').map((result) => result.fix ?? '');
    expect(fixes).toContainEqual(expect.stringMatching(/^OIDC_PAR: set it as the message says/));
    expect(fixes).toContainEqual(expect.stringMatching(/^OIDC_HTTP_TIMEOUT_MS: set it to an integer/));
  });

  it('fails when the issuer does not answer, naming the URL, and skips what needs it', async () => {
    const issuer = (await refusedUrl('')).replace(/\/$/, '');
    const report = await runDoctor({ ...basicEnv(), OIDC_ISSUER: issuer });
    const [reachable] = line(report, 'Issuer reachable');
    expect(reachable!.status).toBe('fail');
    expect(reachable!.detail).toContain(`${issuer}/.well-known/openid-configuration`);
    expect(reachable!.fix).toContain('OIDC_ISSUER');
    for (const name of [
      'Discovery consistent',
      'PAR endpoint',
      'Client authentication',
      'Redirect URI',
      'Clock skew',
    ])
      expect(line(report, name)[0]!.status).toBe('skip');
  });

  it('fails Redis when REDIS_URL points where nothing answers, without printing its password', async () => {
    const port = new URL(await refusedUrl()).port;
    const { code, out } = await doctor({
      ...basicEnv(),
      REDIS_URL: `redis://app:hunter2-redis-password@127.0.0.1:${port}`,
    });
    expect(code).toBe(1);
    expect(out).toMatch(new RegExp(`^  FAIL  Redis: redis://127\\.0\\.0\\.1:${port} did not answer`, 'm'));
    expect(out).toContain('fix: Start Redis or fix REDIS_URL');
    expect(out).not.toContain('hunter2-redis-password');
  });

  it('checks a Redis Cluster master by master, and a Sentinel-watched master, never printing a password', async () => {
    const [cluster, sentinel] = await Promise.all([startRedisCluster(), startRedisSentinel()]);
    try {
      const clustered = await doctor({
        ...basicEnv(),
        REDIS_CLUSTER_NODES: cluster.urls.slice(0, 2).join(','),
      });
      expect(clustered.code).toBe(0);
      expect(clustered.out).toMatch(
        /^ {2}ok {4}Redis: the Cluster at .*: 3 masters answered in \d+ ms \(Redis \d/m,
      );
      const watched = await doctor({
        ...basicEnv(),
        REDIS_SENTINELS: sentinel.sentinelUrls.join(','),
        REDIS_SENTINEL_NAME: sentinel.name,
      });
      expect(watched.code).toBe(0);
      const master = await sentinel.master();
      expect(watched.out).toContain(`master 127.0.0.1:${master.port} answered in `);
      const unknown = await doctor({
        ...basicEnv(),
        REDIS_SENTINELS: sentinel.sentinelUrls
          .map((u) => u.replace('redis://', 'redis://app:hunter2-redis@'))
          .join(','),
        REDIS_SENTINEL_NAME: 'no-such-master',
      });
      expect(unknown.code).toBe(1);
      expect(unknown.out).toMatch(
        /^ {2}FAIL {2}Redis: master "no-such-master" of the Sentinels at .* did not answer/m,
      );
      expect(unknown.out).toContain('fix: Start Redis or fix REDIS_SENTINELS and REDIS_SENTINEL_NAME');
      expect(unknown.out).not.toContain('hunter2-redis');
      await cluster.killNode((await cluster.masters())[0]!.port);
      const broken = await doctor({ ...basicEnv(), REDIS_CLUSTER_NODES: cluster.urls.join(',') });
      expect(broken.code).toBe(1);
      expect(broken.out).toMatch(/^ {2}FAIL {2}Redis: the Cluster at .* did not answer/m);
    } finally {
      await Promise.all([cluster.close(), sentinel.close()]);
    }
  }, 60_000);

  it('fails the clock check when this machine is minutes ahead of the AS, and passes within the tolerance', async () => {
    const ahead = await runDoctor(basicEnv(), { now: () => Date.now() + 5 * 60_000 });
    const [clock] = line(ahead, 'Clock skew');
    expect(clock!.status).toBe('fail');
    expect(clock!.detail).toMatch(/this machine is (29\d|30\d) s ahead of the AS/);
    expect(clock!.fix).toContain('NTP');
    expect(ahead.healthy).toBe(false);
    const [close] = line(await runDoctor(basicEnv(), { now: () => Date.now() - 3000 }), 'Clock skew');
    expect(close!.status).toBe('ok');
  });
});

describe('doctor against a scripted AS', () => {
  const env = (): NodeJS.ProcessEnv => ({
    OIDC_ISSUER: hostile.issuer,
    OIDC_CLIENT_ID: hostile.clientId,
    OIDC_CLIENT_SECRET: hostile.clientSecret,
    APP_BASE_URL: 'http://127.0.0.1:3000',
    SESSION_SECRET,
  });

  it('fails the PAR endpoint check when discovery has none, saying to enable PAR', async () => {
    hostile.reset();
    hostile.script.discovery = {
      body: (normal: Record<string, unknown>) => ({
        ...normal,
        pushed_authorization_request_endpoint: undefined,
      }),
    };
    const report = await runDoctor(env());
    const failures = report.results.filter((result) => result.status === 'fail');
    expect(failures.map((result) => result.name)).toContain('PAR endpoint');
    expect(failures.find((result) => result.name === 'PAR endpoint')!.fix).toContain(
      'Pushed Authorization Requests',
    );
    expect(hostile.count('par')).toBe(0);
  });

  it('passes the PAR endpoint check without one when OIDC_PAR=auto allows classic requests, and still fails it when the AS requires PAR', async () => {
    hostile.reset();
    hostile.script.discovery = {
      body: (normal: Record<string, unknown>) => ({
        ...normal,
        pushed_authorization_request_endpoint: undefined,
        require_pushed_authorization_requests: false,
      }),
    };
    const auto = line(await runDoctor({ ...env(), OIDC_PAR: 'auto' }), 'PAR endpoint');
    expect(auto).toEqual([
      expect.objectContaining({ status: 'ok', detail: expect.stringContaining('OIDC_PAR=auto') }),
    ]);
    hostile.script.discovery = {
      body: (normal: Record<string, unknown>) => ({
        ...normal,
        pushed_authorization_request_endpoint: undefined,
        require_pushed_authorization_requests: true,
      }),
    };
    const required = line(await runDoctor({ ...env(), OIDC_PAR: 'auto' }), 'PAR endpoint');
    expect(required).toEqual([
      expect.objectContaining({ status: 'fail', fix: expect.stringContaining('par_required') }),
    ]);
  });

  it('fails discovery when the AS names another issuer, and proposes the published one', async () => {
    hostile.reset();
    hostile.script.discovery = {
      body: (normal: Record<string, unknown>) => ({ ...normal, issuer: `${hostile.issuer}/tenant` }),
    };
    const report = await runDoctor(env());
    const [consistent] = line(report, 'Discovery consistent');
    expect(consistent!.status).toBe('fail');
    expect(consistent!.fix).toBe(
      `Set OIDC_ISSUER=${hostile.issuer}/tenant (the issuer must match the AS's exactly, trailing slash included).`,
    );
    expect(report.healthy).toBe(false);
  });

  it('fails discovery that does not fit this client (no PKCE S256), and passes the same AS unscripted', async () => {
    hostile.reset();
    hostile.script.discovery = {
      body: (normal: Record<string, unknown>) => ({ ...normal, code_challenge_methods_supported: ['plain'] }),
    };
    const [pkce] = line(await runDoctor(env()), 'Discovery consistent');
    expect(pkce!.status).toBe('fail');
    expect(pkce!.detail).toContain('S256');
    hostile.reset();
    const healthy = await runDoctor(env());
    expect(healthy.results.filter((result) => result.status !== 'ok').map((result) => result.name)).toEqual(
      [],
    );
  });
});

describe('the command line', () => {
  it('prints usage and exits 2 without a command or with an unknown one, 0 for --help', async () => {
    const collect = async (argv: string[]) => {
      let out = '';
      let err = '';
      const code = await runCli(
        argv,
        {},
        {
          out: (text) => {
            out += text;
          },
          err: (text) => {
            err += text;
          },
        },
      );
      return { code, out, err };
    };
    expect(await collect([])).toMatchObject({ code: 2, out: '' });
    const unknown = await collect(['docter']);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain('Unknown command "docter"');
    const help = await collect(['--help']);
    expect(help.code).toBe(0);
    expect(help.out).toContain('Usage: express-par-login doctor');
    expect((await collect(['doctor', '--env-file', '/nonexistent/.env'])).code).toBe(2);
  });

  it('runs as a process: `npm run doctor` exits 0 on a healthy configuration and 1 on a broken one', async () => {
    const { execFile } = await import('node:child_process');
    const run = (env: NodeJS.ProcessEnv) =>
      new Promise<{ code: number; stdout: string }>((resolve) => {
        execFile(
          process.execPath,
          ['--import', 'tsx', 'src/doctor/cli.ts', 'doctor'],
          { env: { PATH: process.env.PATH, ...env }, timeout: 60_000 },
          (error, stdout) => {
            resolve({ code: error === null ? 0 : Number((error as { code?: number }).code), stdout });
          },
        );
      });
    const healthy = await run(basicEnv());
    expect(healthy.stdout).toContain('All good.');
    expect(healthy.code).toBe(0);
    const broken = await run({ ...basicEnv(), OIDC_CLIENT_SECRET: 'wrong-secret-value' });
    expect(broken.stdout).toMatch(/FAIL {2}Client authentication/);
    expect(broken.code).toBe(1);
  }, 60_000);

  it('reads a .env file, the environment winning over it', async () => {
    const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const path = await import('node:path');
    const dir = await mkdtemp(path.join(tmpdir(), 'doctor-'));
    try {
      const file = path.join(dir, '.env');
      const env = basicEnv();
      await writeFile(
        file,
        Object.entries({ ...env, OIDC_CLIENT_ID: 'overridden' })
          .map(([name, value]) => `${name}=${value}`)
          .join('\n'),
      );
      let out = '';
      const code = await runCli(
        ['doctor', '--env-file', file],
        { OIDC_CLIENT_ID: 'basic-client' },
        {
          out: (text) => {
            out += text;
          },
          err: () => {},
        },
      );
      expect(out).toMatch(/^ {2}ok {4}Client authentication: /m);
      expect(code).toBe(0);
    } finally {
      await rm(dir, { recursive: true });
    }
  });
});

describe('the Redis version check', () => {
  it('reads the version from INFO server and compares it with 6.2', async () => {
    const { atLeast, MIN_REDIS_VERSION, redisVersion } = await import('../../src/doctor/redis-check.js');
    expect(redisVersion('# Server\r\nredis_version:7.0.15\r\nredis_git_sha1:0\r\n')).toBe('7.0.15');
    expect(redisVersion('# Server\r\n')).toBeUndefined();
    expect(atLeast('7.0.15', MIN_REDIS_VERSION)).toBe(true);
    expect(atLeast('6.2.0', MIN_REDIS_VERSION)).toBe(true);
    expect(atLeast('6.0.16', MIN_REDIS_VERSION)).toBe(false);
    expect(atLeast('5.9.9', MIN_REDIS_VERSION)).toBe(false);
    expect(atLeast('10.0.0', MIN_REDIS_VERSION)).toBe(true);
  });
});
