/**
 * A TCP port on 127.0.0.1 that is free right now (for a peer that must be told its port up front).
 *
 * @module
 */
import { createServer } from 'node:net';

/** A port free right now on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}
