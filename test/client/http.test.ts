import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createBackChannel } from '../../src/client/http.js';

// A scripted server for misbehaviour a real AS does not produce.
let server: Server;
let base: string;
const sockets = new Set<import('node:net').Socket>();

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/json')
      return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    if (req.url === '/big') return void res.writeHead(200).end('x'.repeat(5000));
    if (req.url === '/redirect') return void res.writeHead(302, { location: '/json' }).end();
    if (req.url === '/garbage')
      return void res.writeHead(200, { 'content-type': 'application/json' }).end('{nope');
    if (req.url === '/echo') {
      let body = '';
      req
        .on('data', (c) => (body += c))
        .on('end', () =>
          res
            .writeHead(200)
            .end(
              JSON.stringify({ body, type: req.headers['content-type'], auth: req.headers.authorization }),
            ),
        );
      return;
    }
    if (req.url === '/hang') return void res.writeHead(200); // headers sent, body never finishes
    // '/silent': never answers
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((resolve) => server.close(resolve));
});

describe('back channel', () => {
  const http = createBackChannel({ timeoutMs: 300, maxResponseBytes: 1024 });
  afterAll(() => http.close());

  it('parses JSON and posts forms', async () => {
    await expect(http.get(`${base}/json`, 'test')).resolves.toMatchObject({
      status: 200,
      json: { ok: true },
    });
    const res = await http.postForm(
      `${base}/echo`,
      new URLSearchParams({ a: 'b c' }),
      { authorization: 'Basic x' },
      'test',
    );
    expect(res.json).toEqual({ body: 'a=b+c', type: 'application/x-www-form-urlencoded', auth: 'Basic x' });
  });

  it('does not follow redirects', async () => {
    await expect(http.get(`${base}/redirect`, 'test')).resolves.toMatchObject({
      status: 302,
      json: undefined,
    });
  });

  it('gives undefined for a body that is not JSON', async () => {
    await expect(http.get(`${base}/garbage`, 'test')).resolves.toMatchObject({
      status: 200,
      json: undefined,
    });
  });

  it('refuses a body over the size limit', async () => {
    await expect(http.get(`${base}/big`, 'test')).rejects.toMatchObject({
      code: 'as_bad_response',
      status: 502,
    });
  });

  it.each(['/silent', '/hang'])('times out on %s within the deadline', async (path) => {
    const started = Date.now();
    await expect(http.get(`${base}${path}`, 'discovery')).rejects.toMatchObject({
      code: 'as_timeout',
      status: 504,
      message: new RegExp(`discovery request to ${base}${path} within 300 ms \\(OIDC_HTTP_TIMEOUT_MS\\)`),
    });
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('reports connection refused as unreachable', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    await expect(http.get(`http://127.0.0.1:${port}/par?secret=no`, 'PAR')).rejects.toMatchObject({
      code: 'as_unreachable',
      status: 502,
      message: `The authorization server could not be reached for the PAR request to http://127.0.0.1:${port}/par: connect ECONNREFUSED 127.0.0.1:${port}.`,
    });
  });
});
