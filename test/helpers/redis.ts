/**
 * A real redis-server for tests, on a free 127.0.0.1 port, without persistence; stoppable and
 * restartable on the same port to test outages.
 *
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';
import { createClient } from 'redis';
import { systemClock } from '../../src/clock.js';
import type { RedisConnection } from '../../src/config/options.js';
import { openRedis, type RedisHandle } from '../../src/state/redis.js';

type InspectClient = ReturnType<typeof createClient>;

/** A running redis-server. */
export interface TestRedis {
  url: string;
  port: number;
  /** A client for looking inside (keys, TTLs, values). */
  inspect: InspectClient;
  /** Stop the server (the port stays reserved for `start`). */
  stop(): Promise<void>;
  /** Start it again on the same port (empty: no persistence). */
  start(): Promise<void>;
  /** Stop for good. */
  close(): Promise<void>;
}

async function waitUntilUp(port: number): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const probe = createClient({ url: `redis://127.0.0.1:${port}`, socket: { reconnectStrategy: false } });
    probe.on('error', () => {});
    try {
      await probe.connect();
      await probe.ping();
      probe.destroy();
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  throw new Error(`redis-server did not start on port ${port}`);
}

/**
 * Start redis-server (from PATH; `.ci/run` installs Debian's redis-server). `persistent` keeps the
 * data across `stop`/`start` (an append-only file written on every command, in a temp directory),
 * as a production Redis restarted by its supervisor would.
 */
export async function startRedis(options: { persistent?: boolean } = {}): Promise<TestRedis> {
  const port = await freePort();
  const dir = options.persistent ? await mkdtemp(join(tmpdir(), 'redis-')) : undefined;
  const persistence =
    dir === undefined
      ? ['--appendonly', 'no']
      : ['--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always'];
  let child: ChildProcess | undefined;
  const start = async (): Promise<void> => {
    child = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', ...persistence],
      { stdio: 'ignore' },
    );
    await waitUntilUp(port);
  };
  const stop = async (): Promise<void> => {
    const running = child;
    child = undefined;
    if (running === undefined || running.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      running.once('exit', () => resolve());
      running.kill('SIGKILL');
    });
  };
  await start();
  const inspect: InspectClient = createClient({ url: `redis://127.0.0.1:${port}` });
  inspect.on('error', () => {});
  await inspect.connect();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    inspect,
    stop,
    start,
    close: async () => {
      inspect.destroy();
      await stop();
      if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The product's handle (deadline, outage records) over a connection a test made; records go to
 * `logs` when given.
 */
export function redisHandle(
  connection: RedisConnection,
  options: { timeoutMs?: number; logs?: Array<Record<string, unknown>> } = {},
): RedisHandle {
  const keep = (level: string) => (record: Record<string, unknown>) =>
    void options.logs?.push({ ...record, level });
  return openRedis(
    {
      redisClient: connection,
      redisCommandTimeoutMs: options.timeoutMs ?? 1_000,
      logger: { warn: keep('warn'), error: keep('error') },
    },
    systemClock(),
  )!;
}
