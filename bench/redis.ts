/**
 * Redis for the Redis variants: `REDIS_URL` when set, else a throw-away redis-server on a free
 * port (no persistence) when the binary is on the PATH, else none.
 *
 * @module
 */
import { spawn, spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient } from 'redis';
import { freePorts } from './children.js';

/** A reachable Redis. */
export interface RedisServer {
  url: string;
  /** Where it came from, for the report. */
  origin: string;
  /** Stop it when the bench started it. */
  stop(): Promise<void>;
}

/** Find or start a Redis; `undefined` when there is none. */
export async function findRedis(env: NodeJS.ProcessEnv): Promise<RedisServer | undefined> {
  if (env.REDIS_URL) return { url: env.REDIS_URL, origin: 'REDIS_URL', stop: async () => {} };
  if (spawnSync('redis-server', ['--version']).status !== 0) return undefined;
  const [port] = await freePorts(1);
  const server = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  const url = `redis://127.0.0.1:${port}`;
  const exited = new Promise((resolve) => server.once('exit', resolve));
  for (let attempt = 0; attempt < 50; attempt += 1) {
    try {
      const client = await createClient({ url, socket: { reconnectStrategy: false } })
        .on('error', () => {})
        .connect();
      await client.close();
      return {
        url,
        origin: `redis-server started by the bench on port ${port}`,
        stop: async () => void (server.kill('SIGTERM'), await exited),
      };
    } catch {
      await sleep(100);
    }
  }
  server.kill('SIGKILL');
  return undefined;
}
