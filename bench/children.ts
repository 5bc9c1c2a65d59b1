/**
 * Starting and talking to bench child processes (see child.ts): one server per process, typed
 * calls over IPC, stderr kept for the error message when a child fails.
 *
 * @module
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CallMessage, CallType, ChildCalls, ChildInit, ReplyMessage } from './protocol.js';

const CHILD = fileURLToPath(new URL('./child.ts', import.meta.url));
const STDERR_KEPT = 8_000;

/** A running child and its server. */
export interface Child {
  readonly name: string;
  readonly url: string;
  call<T extends CallType>(
    type: T,
    ...payload: ChildCalls[T]['in'] extends undefined ? [] : [ChildCalls[T]['in']]
  ): Promise<ChildCalls[T]['out']>;
  /** Close the server and end the process (it writes its CPU profile then, if asked for). */
  stop(): Promise<void>;
}

/** Options of {@link startChild}. */
export interface ChildOptions {
  /**
   * Write V8 CPU profiles (`node --cpu-prof`) into `<this directory>/<name>/` when the child ends:
   * one per thread; the main thread's file name has thread id 0 (`CPU.<date>.<pid>.0.<seq>.cpuprofile`).
   */
  cpuProfileDir?: string;
  /** Environment variables set (string) or removed (undefined) for this child. */
  env?: Record<string, string | undefined>;
}

/** Free TCP ports on 127.0.0.1 (bound and released; another process could take one meanwhile). */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
          const server = createServer();
          server.once('error', reject).listen(0, '127.0.0.1', () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((server) => (server.address() as { port: number }).port);
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

/** Fork a child, start its server and wait until it listens. */
export async function startChild(name: string, init: ChildInit, options: ChildOptions = {}): Promise<Child> {
  const execArgv = ['--import', 'tsx', '--expose-gc'];
  if (options.cpuProfileDir !== undefined)
    execArgv.push('--cpu-prof', `--cpu-prof-dir=${join(options.cpuProfileDir, name)}`);
  const env: Record<string, string | undefined> = { ...process.env, NODE_ENV: 'production', ...options.env };
  for (const key of Object.keys(env)) if (env[key] === undefined) delete env[key];
  const child = fork(CHILD, [], { execArgv, env, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-STDERR_KEPT);
  });
  const call = ipc(name, child, () => stderr);
  try {
    const { url } = await call('init', init);
    return {
      name,
      url,
      call,
      stop: async () => {
        if (child.exitCode !== null) return;
        const exited = new Promise((resolve) => child.once('exit', resolve));
        await call('stop').catch(() => child.kill('SIGKILL'));
        await exited;
      },
    };
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
}

function ipc(name: string, child: ChildProcess, stderr: () => string): Child['call'] {
  let nextId = 1;
  const waiting = new Map<number, { resolve(value: unknown): void; reject(err: Error): void }>();
  child.on('message', (reply: ReplyMessage) => {
    const pending = waiting.get(reply.id);
    waiting.delete(reply.id);
    if (reply.ok) pending?.resolve(reply.value);
    else pending?.reject(new Error(`${name}: ${reply.error}`));
  });
  child.on('exit', (code, signal) => {
    for (const pending of waiting.values())
      pending.reject(new Error(`${name} exited (${signal ?? code}) during a call; stderr:\n${stderr()}`));
    waiting.clear();
  });
  return (type: CallType, payload?: unknown) =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      waiting.set(id, { resolve, reject });
      const message: CallMessage = { id, type, payload };
      child.send(message, (err) => {
        if (err) {
          waiting.delete(id);
          reject(new Error(`${name}: cannot send ${type}: ${err.message}`));
        }
      });
    });
}
