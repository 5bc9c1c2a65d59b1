/**
 * Start an HTTP server for a request handler and know its URL, for the sample app, the demo and
 * the tests.
 *
 * @module
 */
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A listening server. */
export interface Listening {
  server: Server;
  /** `http://host:port`, without a trailing slash. */
  url: string;
  /** Stop listening and drop every open connection. */
  close(): Promise<void>;
}

/**
 * Listen on `host:port` (port 0 picks a free port). A handler may be attached later with
 * `server.on('request', handler)` when `handler` is omitted.
 *
 * @throws {Error} when the port cannot be bound (for example `EADDRINUSE`).
 */
export async function listen(port: number, host: string, handler?: RequestListener): Promise<Listening> {
  const server = createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { address, port: bound } = server.address() as AddressInfo;
  return {
    server,
    url: `http://${address.includes(':') ? `[${address}]` : address}:${bound}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
