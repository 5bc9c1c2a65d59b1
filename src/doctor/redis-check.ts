/**
 * Doctor check: Redis answers at `REDIS_URL`, with the library's connection settings (its command
 * and connect timeout). One connection, one `PING`, no retry. The URL is never printed: it may hold
 * a password; only its host and port are.
 *
 * @module
 */
import { createClient } from 'redis';
import type { ResolvedConfig } from '../config.js';
import { failed, passed, type CheckResult } from './check.js';

const NAME = 'Redis';

/** `host:port` of a Redis URL, without user or password. */
function where(redisUrl: string): string {
  const url = new URL(redisUrl);
  return `${url.protocol}//${url.hostname}:${url.port || '6379'}`;
}

/**
 * Connect to `config.redisUrl` and `PING` it; passes with a note when no Redis is configured.
 */
export async function checkRedis(config: ResolvedConfig): Promise<CheckResult> {
  if (config.redisUrl === undefined) {
    return passed(NAME, 'not configured: sessions are kept in memory (fine for one instance; set REDIS_URL when the app runs on several)');
  }
  const target = where(config.redisUrl);
  const timeout = config.redisCommandTimeoutMs;
  const client = createClient({
    url: config.redisUrl,
    disableOfflineQueue: true,
    commandOptions: { timeout },
    socket: { connectTimeout: timeout, reconnectStrategy: false },
  });
  client.on('error', () => {}); // reported through the rejected promise below
  const started = Date.now();
  try {
    await client.connect();
    const pong = await client.ping();
    if (pong !== 'PONG') throw new Error(`PING answered ${String(pong)}`);
    return passed(NAME, `${target} answered PING in ${Date.now() - started} ms`);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    const reason = `${err instanceof Error ? err.message : String(err)}${typeof code === 'string' && !String(err).includes(code) ? ` (${code})` : ''}`;
    return failed(NAME, `${target} did not answer: ${reason}`,
      /WRONGPASS|NOAUTH|NOPERM/.test(reason)
        ? 'Put the right user and password in REDIS_URL (redis://user:password@host:port).'
        : `Start Redis or fix REDIS_URL (host, port, redis:// or rediss:// for TLS); it must answer within REDIS_COMMAND_TIMEOUT_MS (${timeout} ms). Or unset REDIS_URL to keep sessions in memory (one instance only).`);
  } finally {
    try {
      client.destroy();
    } catch {
      // never connected
    }
  }
}
