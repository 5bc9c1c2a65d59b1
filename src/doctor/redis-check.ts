/**
 * Doctor check: Redis answers at `REDIS_URL`, with the library's connection settings (its command
 * and connect timeout), and is 6.2 or newer (sessions are read with `GETEX`, pending logins taken
 * with `SET … GET`). One connection, one `PING` and one `INFO server`, no retry. The URL is never printed: it may hold
 * a password; only its host and port are.
 *
 * @module
 */
import { createClient } from 'redis';
import type { ResolvedConfig } from '../config/resolve-config.js';
import { failed, passed, type CheckResult } from './check.js';

const NAME = 'Redis';

/** `host:port` of a Redis URL, without user or password. */
function where(redisUrl: string): string {
  const url = new URL(redisUrl);
  return `${url.protocol}//${url.hostname}:${url.port || '6379'}`;
}

/** The oldest Redis the middleware works with (GETEX and SET … GET came with 6.2). */
export const MIN_REDIS_VERSION = '6.2.0';

/** The `redis_version` of an `INFO server` answer, or `undefined`. */
export function redisVersion(info: string): string | undefined {
  return /^redis_version:(\d+\.\d+\.\d+)/m.exec(info)?.[1];
}

/** Whether dotted version `version` is at least `minimum`. */
export function atLeast(version: string, minimum: string): boolean {
  const [a, b] = [version, minimum].map((v) => v.split('.').map(Number));
  for (let i = 0; i < 3; i += 1) if (a![i]! !== b![i]!) return a![i]! > b![i]!;
  return true;
}

/**
 * Connect to `config.redisUrl`, `PING` it and read its version; passes with a note when no Redis is configured.
 */
export async function checkRedis(config: ResolvedConfig): Promise<CheckResult> {
  if (config.redisUrl === undefined) {
    return passed(
      NAME,
      'not configured: sessions are kept in memory (fine for one instance; set REDIS_URL when the app runs on several)',
    );
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
    const elapsed = Date.now() - started;
    const version = redisVersion(String(await client.info('server')));
    if (version !== undefined && !atLeast(version, MIN_REDIS_VERSION)) {
      return failed(
        NAME,
        `${target} is Redis ${version}, older than ${MIN_REDIS_VERSION}: ` +
          'sessions are read with GETEX and pending logins taken with SET … GET',
        `Upgrade Redis to ${MIN_REDIS_VERSION} or newer, ` +
          'or unset REDIS_URL to keep sessions in memory (one instance only).',
      );
    }
    return passed(NAME, `${target} answered PING in ${elapsed} ms${version ? ` (Redis ${version})` : ''}`);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    const message = err instanceof Error ? err.message : String(err);
    const reason = `${message}${typeof code === 'string' && !String(err).includes(code) ? ` (${code})` : ''}`;
    return failed(
      NAME,
      `${target} did not answer: ${reason}`,
      /WRONGPASS|NOAUTH|NOPERM/.test(reason)
        ? 'Put the right user and password in REDIS_URL (redis://user:password@host:port).'
        : 'Start Redis or fix REDIS_URL (host, port, redis:// or rediss:// for TLS); ' +
            `it must answer within REDIS_COMMAND_TIMEOUT_MS (${timeout} ms). ` +
            'Or unset REDIS_URL to keep sessions in memory (one instance only).',
    );
  } finally {
    try {
      client.destroy();
    } catch {
      // never connected
    }
  }
}
