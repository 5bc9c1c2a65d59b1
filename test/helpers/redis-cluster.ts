/**
 * A real Redis Cluster for tests: 3 masters and 3 replicas from `redis-server` (on PATH) on free
 * 127.0.0.1 ports, without persistence, in a temp directory; nodes can be killed to watch a
 * replica take over. Also the process and polling utilities the sentinel helper shares.
 *
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from 'redis';
import { freePort } from './free-port.js';

const SLOTS = 16384;
const FAILOVER_TIMEOUT_MS = 20_000;

/** A running redis-server process. */
export interface RedisNode {
  port: number;
  pid: number;
}

/** A master and the slot ranges it serves. */
export interface ClusterMaster extends RedisNode {
  slots: [number, number][];
}

/** A running Redis Cluster of 3 masters with a replica each. */
export interface TestRedisCluster {
  /** The 6 nodes (a restarted node's pid is updated in place). */
  nodes: RedisNode[];
  /** For `createCluster({ rootNodes })`. */
  rootNodes: { url: string }[];
  urls: string[];
  /** The current masters (as a live node sees them), with their slots. */
  masters(): Promise<ClusterMaster[]>;
  /** The master that serves `key` now. */
  masterFor(key: string): Promise<RedisNode>;
  /** SIGKILL a node and wait for it to exit. */
  killNode(port: number): Promise<void>;
  /** Wait (20 s at most) until the cluster is ok again without the dead node, its slots served by others. */
  waitForFailover(deadPort: number): Promise<void>;
  /** Start a killed node again on its port (it rejoins with its nodes.conf, as a replica if replaced). */
  restartNode(port: number): Promise<void>;
  /** Kill every process and remove the temp directory (idempotent). */
  close(): Promise<void>;
}

/** Spawn `command` with stdio ignored; a spawn failure leaves the child with no pid rather than throwing later. */
export function spawnIgnored(command: string, args: string[]): ChildProcess & { pid: number } {
  const child = spawn(command, args, { stdio: 'ignore' });
  child.on('error', () => {});
  if (child.pid === undefined) throw new Error(`could not spawn ${command}`);
  return child as ChildProcess & { pid: number };
}

/** SIGKILL a child and wait (2 s at most) for it to exit; a no-op once it has exited. */
export async function killChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 2000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGKILL');
  });
}

/** Send one command to the redis-server on `port` over a fresh connection (1 s connect timeout). */
export async function redisCommand(port: number, args: string[]): Promise<unknown> {
  const client = createClient({
    url: `redis://127.0.0.1:${port}`,
    socket: { reconnectStrategy: false, connectTimeout: 1000 },
  });
  client.on('error', () => {});
  try {
    await client.connect();
    return await client.sendCommand(args);
  } finally {
    client.destroy();
  }
}

/** Poll `check` every 100 ms until it is true; throw naming `what` (and the last error) after `timeoutMs`. */
export async function waitFor(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
      last = '';
    } catch (error) {
      last = `: ${error instanceof Error ? error.message : String(error)}`;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last}`);
}

/** The options every test redis-server gets: no persistence, and replicas sync at once (not after 5 s). */
export function redisArgs(port: number, dir: string): string[] {
  return [
    ...['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'],
    ...['--repl-diskless-sync-delay', '0'],
  ];
}

async function isFree(port: number): Promise<boolean> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A free port whose cluster bus port (port + 10000) is free too and clashes with no port in `taken`. */
async function clusterPort(taken: Set<number>): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const port = await freePort();
    const bus = port + 10000;
    if (bus > 65535 || taken.has(port) || taken.has(bus) || !(await isFree(bus))) continue;
    taken.add(port).add(bus);
    return port;
  }
  throw new Error('no free port pair (port, port + 10000) for a cluster node');
}

interface NodeLine {
  port: number;
  flags: string[];
  slots: [number, number][];
}

/** Parse `CLUSTER NODES` (skipping migrating/importing `[slot->-id]` entries). */
function parseNodes(text: string): NodeLine[] {
  return text
    .trim()
    .split('\n')
    .map((line) => {
      const [, address = '', flags = '', , , , , , ...slots] = line.trim().split(' ');
      return {
        port: Number(address.split('@')[0]?.split(':')[1]),
        flags: flags.split(','),
        slots: slots
          .filter((slot) => !slot.startsWith('['))
          .map((slot): [number, number] => {
            const [from, to = from] = slot.split('-').map(Number) as [number, number?];
            return [from, to];
          }),
      };
    });
}

const failed = (node: NodeLine): boolean => node.flags.some((flag) => flag.startsWith('fail'));

/** Whether the node on `port` sees cluster_state:ok, every slot served by a live master, and none on `deadPort`. */
async function healthyView(port: number, deadPort?: number): Promise<boolean> {
  const info = String(await redisCommand(port, ['CLUSTER', 'INFO']));
  if (!info.includes('cluster_state:ok') || !info.includes(`cluster_slots_assigned:${SLOTS}`)) return false;
  const nodes = parseNodes(String(await redisCommand(port, ['CLUSTER', 'NODES'])));
  const serving = nodes.filter(
    (node) => node.flags.includes('master') && !failed(node) && node.port !== deadPort,
  );
  const served = serving.flatMap((node) => node.slots).reduce((sum, [from, to]) => sum + to - from + 1, 0);
  const dead = nodes.find((node) => node.port === deadPort);
  return served === SLOTS && (dead === undefined || failed(dead));
}

/** Start 6 cluster nodes, join them with `redis-cli --cluster create` and wait until the cluster is ok. */
export async function startRedisCluster(): Promise<TestRedisCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'redis-cluster-'));
  const children = new Map<number, ChildProcess & { pid: number }>();
  const helpers = new Set<ChildProcess>();
  const taken = new Set<number>();
  const nodes: RedisNode[] = [];
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await Promise.all([...children.values(), ...helpers].map(killChild));
    await rm(dir, { recursive: true, force: true });
  };
  const alive = (): number[] =>
    [...children].filter(([, c]) => c.exitCode === null && c.signalCode === null).map(([port]) => port);
  const spawnNode = async (port: number): Promise<void> => {
    const args = redisArgs(port, dir);
    args.push('--cluster-enabled', 'yes', '--cluster-config-file', join(dir, `nodes-${port}.conf`));
    args.push('--cluster-node-timeout', '1000', '--cluster-replica-validity-factor', '0');
    if (closed) throw new Error('the cluster is closed');
    const child = spawnIgnored('redis-server', args);
    children.set(port, child);
    const node = nodes.find((known) => known.port === port);
    if (node === undefined) nodes.push({ port, pid: child.pid });
    else node.pid = child.pid;
    await waitFor(
      `cluster node ${port} to start`,
      10_000,
      async () => (await redisCommand(port, ['PING'])) === 'PONG',
    );
  };
  /** Send a command to the first live node that answers. */
  const ask = async (args: string[]): Promise<unknown> => {
    for (const port of alive()) {
      try {
        return await redisCommand(port, args);
      } catch {
        // try the next node
      }
    }
    throw new Error('no cluster node answers');
  };
  const pidOf = (port: number): number => children.get(port)?.pid ?? 0;
  const masters = async (): Promise<ClusterMaster[]> =>
    parseNodes(String(await ask(['CLUSTER', 'NODES'])))
      .filter((node) => node.flags.includes('master') && !failed(node) && node.slots.length > 0)
      .map(({ port, slots }) => ({ port, pid: pidOf(port), slots }));
  try {
    const ports: number[] = [];
    for (let i = 0; i < 6; i += 1) ports.push(await clusterPort(taken));
    await Promise.all(ports.map(spawnNode));
    const create = spawnIgnored('redis-cli', [
      ...['--cluster', 'create', ...ports.map((port) => `127.0.0.1:${port}`)],
      ...['--cluster-replicas', '1', '--cluster-yes'],
    ]);
    helpers.add(create);
    const timer = setTimeout(() => create.kill('SIGKILL'), 30_000);
    const code = await new Promise<number | null>((resolve) => create.once('exit', resolve));
    clearTimeout(timer);
    if (code !== 0) throw new Error(`redis-cli --cluster create exited with ${code}`);
    await waitFor('the cluster to be ok on every node with replicas in sync', 20_000, async () => {
      for (const port of ports) {
        if (!(await healthyView(port))) return false;
        const role = (await redisCommand(port, ['ROLE'])) as unknown[];
        if (role[0] === 'slave' && role[3] !== 'connected') return false;
      }
      return true;
    });
    const urls = ports.map((port) => `redis://127.0.0.1:${port}`);
    return {
      nodes,
      rootNodes: urls.map((url) => ({ url })),
      urls,
      masters,
      masterFor: async (key) => {
        const slot = Number(await ask(['CLUSTER', 'KEYSLOT', key]));
        const master = (await masters()).find((m) =>
          m.slots.some(([from, to]) => from <= slot && slot <= to),
        );
        if (master === undefined) throw new Error(`no master serves slot ${slot}`);
        return { port: master.port, pid: master.pid };
      },
      killNode: async (port) => {
        const child = children.get(port);
        if (child === undefined) throw new Error(`no cluster node on port ${port}`);
        await killChild(child);
      },
      waitForFailover: (deadPort) =>
        waitFor(`the cluster to recover from losing node ${deadPort}`, FAILOVER_TIMEOUT_MS, async () => {
          for (const port of alive()) if (!(await healthyView(port, deadPort))) return false;
          return true;
        }),
      restartNode: async (port) => {
        if (alive().includes(port)) return;
        await spawnNode(port);
        await waitFor(`node ${port} to rejoin`, FAILOVER_TIMEOUT_MS, () => healthyView(port));
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
