/**
 * A TLS-terminating reverse proxy on 127.0.0.1, as a load balancer in front of an app: it serves
 * https with the test PKI's certificate and forwards each request over plain http to the app,
 * adding `X-Forwarded-Proto: https` and `X-Forwarded-For`.
 *
 * @module
 */
import { createServer, type Server } from 'node:https';
import { request } from 'undici';
import type { TestPki } from './certs.js';

/** A running proxy. */
export interface TlsProxy {
  /** `https://127.0.0.1:port`. */
  url: string;
  close(): Promise<void>;
}

/** Start a proxy that forwards to `target` (`http://host:port`). */
export async function startTlsProxy(pki: TestPki, target: string): Promise<TlsProxy> {
  const server: Server = createServer({ key: pki.server.key, cert: pki.server.cert }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const headers = { ...req.headers, 'x-forwarded-proto': 'https', 'x-forwarded-for': '203.0.113.9' };
      const body = chunks.length > 0 ? Buffer.concat(chunks) : null;
      request(`${target}${req.url ?? '/'}`, { method: req.method as 'GET', headers, body })
        .then(async (answer) => {
          res.writeHead(answer.statusCode, answer.headers as Record<string, string | string[]>);
          res.end(Buffer.from(await answer.body.arrayBuffer()));
        })
        .catch(() => res.writeHead(502).end());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `https://127.0.0.1:${(server.address() as { port: number }).port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
