/**
 * `apiProxy()` against real upstreams, with a user logged in at oidc-provider:
 *
 * - a static file server that decodes the path before it resolves dot segments (Express's
 *   `express.static`): through the proxy, no encoding of `..` reaches a file outside the API;
 * - an echo server: only allowed headers reach it, none the `Connection` header names, and the
 *   forwarding headers are the proxy's own; only allowed methods (never TRACE) go through.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import express from 'express';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listen, type Listening } from '../../sample-app/listen.js';
import { apiProxy } from '../../src/index.js';
import type { Browser } from '../helpers/browser.js';
import { startStack, type Stack } from '../helpers/stack.js';
import { tokenApp } from '../helpers/token-app.js';

/** A raw request with the path exactly as given (no client normalizes it). */
function raw(
  base: string,
  path: string,
  method: string,
  headers: Record<string, string>,
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ hostname, port, path, method, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject).end();
  });
}

const SECRET = 'the secret outside the API';
let root: string;
let files: Listening;
let echo: Listening;
let stack: Stack;
let browser: Browser;
const filesSeen: string[] = [];
const echoSeen: Array<{ method: string; headers: Record<string, unknown> }> = [];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'parlogin-static-'));
  await mkdir(join(root, 'api'));
  await writeFile(join(root, 'api', 'hello.txt'), 'hello from the API');
  await writeFile(join(root, 'secret.txt'), SECRET);
  const staticApp = express();
  staticApp.use((req, _res, next) => void (filesSeen.push(req.url), next()));
  staticApp.use(express.static(root));
  files = await listen(0, '127.0.0.1', staticApp);
  echo = await listen(0, '127.0.0.1', (req, res) => {
    echoSeen.push({ method: req.method ?? '', headers: req.headers });
    res.writeHead(200, {
      'content-type': 'application/json',
      connection: 'x-api-internal',
      'x-api-internal': 'no',
    });
    res.end(JSON.stringify({ method: req.method, headers: req.headers }));
  });
  stack = await startStack({
    buildApp: tokenApp({
      '/files': { target: `${files.url}/api` },
      '/echo': { target: `${echo.url}/v1`, forwardHeaders: ['x-tenant'] },
      '/read-only': { target: `${echo.url}/v1`, methods: ['GET', 'HEAD'] },
    }) as never,
  });
  browser = stack.browser();
  await browser.login(stack.appUrl);
});
afterAll(async () => {
  await stack.close();
  await files.close();
  await echo.close();
  await rm(root, { recursive: true, force: true });
});

const session = () => ({
  cookie: browser.jar.header(new URL(stack.appUrl), { site: 'same-origin', safeTopLevel: true })!,
  'x-csrf': '1',
  accept: 'application/json',
});

describe('paths through the API proxy', () => {
  const ESCAPES = [
    '..%2fsecret.txt',
    '..%2Fsecret.txt',
    '%2e%2e%2fsecret.txt',
    '%2E%2E/secret.txt',
    '.%2e/secret.txt',
    '..%5csecret.txt',
    '..;/secret.txt',
    '..%252fsecret.txt',
    'x/..%2f..%2fsecret.txt',
    '..\\secret.txt',
    '%c0%ae%c0%ae/secret.txt',
    'a%00b',
    'bad%zz',
  ];

  it('the static server is one that decodes before it resolves: called directly, it serves the secret', async () => {
    const direct = await raw(files.url, '/api/..%2fsecret.txt', 'GET', {});
    expect(direct.status).toBe(200);
    expect(direct.body).toBe(SECRET);
  });

  it.each(ESCAPES)('refuses /files/%s with 400 api_path_rejected, before the API sees it', async (path) => {
    const seen = filesSeen.length;
    const res = await raw(stack.appUrl, `/files/${path}`, 'GET', session());
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toMatchObject({ error: 'api_path_rejected' });
    expect(res.body).not.toContain(SECRET);
    expect(filesSeen.length).toBe(seen);
  });

  it('forwards ordinary paths, percent-encoded characters included', async () => {
    const hello = await raw(stack.appUrl, '/files/hello.txt', 'GET', session());
    expect(hello.status).toBe(200);
    expect(hello.body).toBe('hello from the API');
    const encoded = await raw(stack.appUrl, '/files/caf%C3%A9%20menu.txt?q=..%2f', 'GET', session());
    expect(encoded.status).toBe(404);
    expect(filesSeen.at(-1)).toBe('/api/caf%C3%A9%20menu.txt?q=..%2f');
  });
});

describe('headers and methods through the API proxy', () => {
  it('forwards allowed headers only, drops those Connection names, and sets its own forwarding headers', async () => {
    const res = await raw(stack.appUrl, '/echo/things', 'GET', {
      ...session(),
      'accept-language': 'de',
      'x-tenant': 'acme',
      forwarded: 'for=6.6.6.6;proto=https',
      'x-forwarded-for': '6.6.6.6',
      'x-forwarded-host': 'evil.example',
      'x-forwarded-proto': 'https',
      'x-real-ip': '6.6.6.6',
      via: '1.1 evil',
      'x-remote-user': 'admin',
      'x-user': 'admin',
      origin: stack.appUrl,
    });
    expect(res.status).toBe(200);
    const { headers } = JSON.parse(res.body) as { headers: Record<string, string> };
    expect(headers).toMatchObject({
      accept: 'application/json',
      'accept-language': 'de',
      'x-tenant': 'acme',
    });
    expect(headers['x-forwarded-for']).toMatch(/^(::ffff:)?127\.0\.0\.1$/);
    expect(headers['x-forwarded-proto']).toBe('http');
    expect(headers['x-forwarded-host']).toBe('127.0.0.1');
    for (const name of [
      'forwarded',
      'x-real-ip',
      'via',
      'x-remote-user',
      'x-user',
      'cookie',
      'x-csrf',
      'origin',
    ])
      expect([name, headers[name]]).toEqual([name, undefined]);
    expect(headers.authorization).toMatch(/^Bearer /);
    expect(res.headers['x-api-internal']).toBeUndefined(); // named by the API's Connection header

    const named = await raw(stack.appUrl, '/echo/things', 'GET', {
      ...session(),
      connection: 'x-tenant, accept-language',
      'x-tenant': 'acme',
      'accept-language': 'de',
    });
    const namedHeaders = (JSON.parse(named.body) as { headers: Record<string, string> }).headers;
    expect(namedHeaders['x-tenant']).toBeUndefined();
    expect(namedHeaders['accept-language']).toBeUndefined();
  });

  it.each([
    ['/echo/things', 'TRACE', 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS'],
    ['/echo/things', 'PROPFIND', 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS'],
    ['/read-only/things', 'DELETE', 'GET, HEAD'],
  ])(
    'answers %s %s with 405 method_not_allowed and Allow, before the API sees it',
    async (path, method, allow) => {
      const seen = echoSeen.length;
      const res = await raw(stack.appUrl, path, method, session());
      expect(res.status).toBe(405);
      expect(res.headers.allow).toBe(allow);
      expect(JSON.parse(res.body)).toMatchObject({ error: 'method_not_allowed' });
      expect(echoSeen.length).toBe(seen);
    },
  );

  it('refuses to be configured to forward credentials or forwarding headers, or TRACE', () => {
    for (const options of [
      { forwardHeaders: ['Cookie'] },
      { forwardHeaders: ['x-forwarded-for'] },
      { forwardHeaders: ['authorization'] },
      { methods: ['GET', 'TRACE'] },
      { methods: ['CONNECT'] },
      { methods: [] },
    ]) {
      expect(() => apiProxy({ target: 'https://api.example/', ...options })).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }),
      );
    }
  });
});
