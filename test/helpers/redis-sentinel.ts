/**
 * A real Redis Sentinel setup for tests: a master, a replica and 3 sentinels (`redis-server --sentinel`)
 * on free 127.0.0.1 ports, without persistence, in a temp directory; the master can be killed to
 * watch the sentinels promote the replica.
 *
 * @module
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';
import {
  killChild,
  redisArgs,
  redisCommand,
  spawnIgnored,
  waitFor,
  type RedisNode,
} from './redis-cluster.js';

const NAME = 'mymaster';
const FAILOVER_TIMEOUT_MS = 20_000;

/** A running master, replica and 3 sentinels monitoring them as `mymaster`. */
export interface TestRedisSentinel {
  name: 'mymaster';
  /** For `createSentinel({ sentinelRootNodes })`. */
  sentinels: { host: string; port: number }[];
  sentinelUrls: string[];
  /** The master as the sentinels see it now. */
  master(): Promise<RedisNode>;
  /** SIGKILL the current master and wait for it to exit. */
  killMaster(): Promise<{ port: number }>;
  /** Wait (20 s at most) until every sentinel names a new master and it answers ROLE as master. */
  waitForFailover(oldMasterPort: number): Promise<{ port: number }>;
  /** Kill every process and remove the temp directory (idempotent). */
  close(): Promise<void>;
}

/** A sentinel reply that is a list of flat [field, value, …] arrays (RESP2) or of maps (RESP3), as records. */
function records(reply: unknown): Record<string, string>[] {
  return (reply as unknown[]).map((entry) => {
    if (!Array.isArray(entry)) return entry as Record<string, string>;
    const record: Record<string, string> = {};
    for (let i = 0; i + 1 < entry.length; i += 2) record[String(entry[i])] = String(entry[i + 1]);
    return record;
  });
}

/** The master's port according to the sentinel on `port`. */
async function masterPortFrom(port: number): Promise<number> {
  const reply = (await redisCommand(port, ['SENTINEL', 'get-master-addr-by-name', NAME])) as unknown[] | null;
  if (reply === null) throw new Error(`sentinel ${port} does not know ${NAME}`);
  return Number(reply[1]);
}

/** Whether the sentinel on `port` knows the master on `masterPort` with 1 replica and 2 other sentinels. */
async function sentinelReady(port: number, masterPort: number): Promise<boolean> {
  if ((await masterPortFrom(port)) !== masterPort) return false;
  const replicas = records(await redisCommand(port, ['SENTINEL', 'replicas', NAME]));
  const sentinels = records(await redisCommand(port, ['SENTINEL', 'sentinels', NAME]));
  const up = (record: Record<string, string>): boolean => !(record.flags ?? '').includes('down');
  return replicas.filter(up).length === 1 && sentinels.filter(up).length === 2;
}

/** Start a master, its replica and 3 sentinels; wait until the sentinels could fail the master over. */
export async function startRedisSentinel(): Promise<TestRedisSentinel> {
  const dir = await mkdtemp(join(tmpdir(), 'redis-sentinel-'));
  const servers = new Map<number, ChildProcess & { pid: number }>();
  const sentinelChildren: ChildProcess[] = [];
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await Promise.all([...servers.values(), ...sentinelChildren].map(killChild));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const [masterPort, replicaPort] = [await freePort(), await freePort()];
    const sentinelPorts = [await freePort(), await freePort(), await freePort()];
    servers.set(masterPort, spawnIgnored('redis-server', redisArgs(masterPort, dir)));
    const replicaArgs = [...redisArgs(replicaPort, dir), '--replicaof', '127.0.0.1', String(masterPort)];
    servers.set(replicaPort, spawnIgnored('redis-server', replicaArgs));
    await waitFor('the replica to sync with the master', 10_000, async () =>
      String(await redisCommand(replicaPort, ['INFO', 'replication'])).includes('master_link_status:up'),
    );
    for (const port of sentinelPorts) {
      const conf = join(dir, `sentinel-${port}.conf`);
      await writeFile(
        conf,
        [
          `port ${port}`,
          'bind 127.0.0.1',
          `dir "${dir}"`,
          'sentinel resolve-hostnames no',
          `sentinel monitor ${NAME} 127.0.0.1 ${masterPort} 2`,
          `sentinel down-after-milliseconds ${NAME} 1000`,
          `sentinel failover-timeout ${NAME} 5000`,
          `sentinel parallel-syncs ${NAME} 1`,
          '',
        ].join('\n'),
      );
      sentinelChildren.push(spawnIgnored('redis-server', [conf, '--sentinel']));
    }
    await waitFor('every sentinel to see the master, its replica and the other sentinels', 20_000, async () =>
      (await Promise.all(sentinelPorts.map((port) => sentinelReady(port, masterPort)))).every(Boolean),
    );
    /** The master's port according to the first sentinel that answers. */
    const currentMasterPort = async (): Promise<number> => {
      let last: unknown;
      for (const port of sentinelPorts) {
        try {
          return await masterPortFrom(port);
        } catch (error) {
          last = error;
        }
      }
      throw last;
    };
    const master = async (): Promise<RedisNode> => {
      const port = await currentMasterPort();
      return { port, pid: servers.get(port)?.pid ?? 0 };
    };
    return {
      name: NAME,
      sentinels: sentinelPorts.map((port) => ({ host: '127.0.0.1', port })),
      sentinelUrls: sentinelPorts.map((port) => `redis://127.0.0.1:${port}`),
      master,
      killMaster: async () => {
        const { port } = await master();
        const child = servers.get(port);
        if (child === undefined) throw new Error(`no redis-server on port ${port}`);
        await killChild(child);
        return { port };
      },
      waitForFailover: async (oldMasterPort) => {
        let port = 0;
        await waitFor(`the sentinels to replace master ${oldMasterPort}`, FAILOVER_TIMEOUT_MS, async () => {
          const ports = new Set(await Promise.all(sentinelPorts.map(masterPortFrom)));
          [port = 0] = ports;
          if (ports.size !== 1 || port === oldMasterPort) return false;
          return ((await redisCommand(port, ['ROLE'])) as unknown[])[0] === 'master';
        });
        return { port };
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
