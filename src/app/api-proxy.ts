/**
 * `apiProxy({ target })`: forward a front end's API calls to the app's API with the user's access
 * token attached, so a single-page front end never holds a token (the backend-for-frontend
 * pattern of the OAuth 2.0 for Browser-Based Applications BCP, §6.1).
 *
 * Every proxied request needs an anti-forgery proof: by default the header `X-CSRF: 1`, which a
 * cross-site form cannot send and a cross-site `fetch` cannot send without a CORS preflight the app
 * never grants; or, with `antiForgery: 'same-origin'`, `Sec-Fetch-Site: same-origin` (else an
 * `Origin` equal to the app's). The browser's cookies and `Authorization` never reach the API; the
 * API's `Set-Cookie` never reaches the browser. Paths stay under the target's path.
 *
 * A DPoP-bound access token (RFC 9449 §7.1) goes as `Authorization: DPoP …` with a fresh proof for
 * each call's method and URL; when the API answers 401 asking for a `DPoP-Nonce` (§9), a call
 * without a streamed body is sent once more with that nonce, and the nonce is remembered for the
 * next calls to that origin.
 *
 * @module
 */
import { once } from 'node:events';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { Agent, request, type Dispatcher } from 'undici';
import { mountedAuth, type RequestAuth } from './request-auth.js';
import { resourceServerNonce } from '../client/dpop.js';
import { invalidArgument, isParLoginError, ParLoginError } from '../errors.js';
import { isTimeout } from '../client/http.js';
import { correlationId, defaultLogger, logFailure } from '../observability/log.js';
import { isSameOrigin } from '../web/origin.js';
import { loadTlsMaterial, tlsConnectOptions } from '../config/tls-material.js';
import type { ParLoginLogger } from '../config/options.js';
import {
  checkMethod,
  checkPath,
  connectionNamed,
  forwardedHeaders,
  forwardingRules,
  HOP_BY_HOP,
  type ForwardingRules,
} from './proxy-request.js';

/** Options of {@link apiProxy}. */
export interface ApiProxyOptions {
  /** The API's base URL; the path after the proxy's mount point is appended to its path. */
  target: string;
  /**
   * The anti-forgery proof required on every proxied request: a header (`{ header: 'x-csrf', value: '1' }`
   * by default) or `'same-origin'` (Fetch Metadata, else `Origin`). It cannot be turned off.
   * @default { header: 'x-csrf', value: '1' }
   */
  antiForgery?: { header: string; value: string } | 'same-origin';
  /** Timeout of each API call in milliseconds. @default 10000 */
  timeoutMs?: number;
  /** Where failure records go. @default one JSON line per failure on stderr */
  logger?: ParLoginLogger;
  /**
   * A client certificate chain to present to the API (PEM text or a file path), for APIs that
   * check certificate-bound access tokens (RFC 8705 §3): give the certificate the tokens are bound
   * to, the same as parLogin()'s `tlsClientCert`. @default none
   */
  tlsClientCert?: string;
  /** Its private key (PEM text or a file path). Required with `tlsClientCert`. */
  tlsClientKey?: string;
  /** Extra CA certificates (PEM text or a file path) trusted for the API's TLS certificate, besides the system's. */
  tlsCa?: string;
  /**
   * Request headers forwarded besides the default ones (content negotiation, conditional and range
   * requests, `user-agent`, tracing: `DEFAULT_FORWARDED_HEADERS` in proxy-request.ts). Any other header the browser
   * sends stays behind, and so does every header its `Connection` header names. Cookies,
   * credentials, hop-by-hop and forwarding headers cannot be added: `X-Forwarded-For`, `-Proto` and
   * `-Host` are set from what Express knows.
   * @default []
   */
  forwardHeaders?: readonly string[];
  /**
   * The methods forwarded; others are answered `405 method_not_allowed` with `Allow`. TRACE and
   * CONNECT cannot be allowed.
   * @default ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']
   */
  methods?: readonly string[];
}

/** A proxy middleware, with a way to release its connections. */
export interface ApiProxyMiddleware extends RequestHandler {
  /** Close the proxy's connection pool. */
  close(): Promise<void>;
}

// Hop-by-hop headers (RFC 9110 §7.6.1) and the API's cookies never reach the browser.
const NOT_RETURNED = new Set([...HOP_BY_HOP, 'set-cookie']);
const WITHOUT_BODY = new Set(['GET', 'HEAD', 'OPTIONS', 'DELETE']);

/**
 * Create a token-attaching proxy to the app's API. Mount it after `parLogin()`:
 * `app.use('/api', apiProxy({ target: 'https://api.internal/v1' }))`.
 *
 * Answers: 401 `unauthenticated` / `login_required` without a usable session, 403 `csrf_rejected`
 * without the anti-forgery proof, 400 `api_path_rejected` for a path a decoding server could read
 * as another (proxy-request.ts), 400 `invalid_request` for one that leaves the target's path, 405
 * `method_not_allowed`, 502 `api_unreachable`, 504 `api_timeout`; otherwise the API's own answer.
 *
 * @throws {TypeError} with code `ERR_INVALID_ARG_VALUE` when `target` is not an http(s) URL or an option is invalid.
 */
export function apiProxy(options: ApiProxyOptions): ApiProxyMiddleware {
  const proxy = proxySettings(options);
  const middleware = function apiProxyMiddleware(req: Request, res: Response, next: NextFunction): void {
    forward(proxy, req, res).catch((err: unknown) => {
      const id = correlationId();
      logFailure(proxy.logger, err, id, req.method, req.baseUrl + req.path);
      if (!isParLoginError(err) || res.headersSent) return next(err);
      res
        .status(err.status)
        .set('Cache-Control', 'no-store')
        .json({
          error: err.code,
          error_description: err.expose ? err.message : 'The API is not available right now.',
          correlation_id: id,
        });
    });
  } as ApiProxyMiddleware;
  middleware.close = async () => {
    await proxy.agent.close();
  };
  return middleware;
}

/** One proxy's settings and machinery, validated and built once. */
interface ProxySettings {
  readonly target: URL;
  /** The target's path without a trailing slash. */
  readonly basePath: string;
  /** The anti-forgery header (lower case) and its value; `undefined` for `'same-origin'`. */
  readonly csrf: { readonly header: string; readonly value: string } | undefined;
  readonly timeoutMs: number;
  readonly agent: Agent;
  /** The API's latest `DPoP-Nonce` by origin (RFC 9449 §9). */
  readonly nonces: Map<string, string>;
  readonly logger: ParLoginLogger;
  /** Which methods and headers go through (proxy-request.ts). */
  readonly rules: ForwardingRules;
}

function proxySettings(options: ApiProxyOptions): ProxySettings {
  const target = parseTarget(options.target);
  const antiForgery = options.antiForgery ?? { header: 'x-csrf', value: '1' };
  if (
    antiForgery !== 'same-origin' &&
    (typeof antiForgery?.header !== 'string' ||
      antiForgery.header === '' ||
      typeof antiForgery.value !== 'string' ||
      antiForgery.value === '')
  ) {
    throw invalidArg('antiForgery must be "same-origin" or { header, value } with non-empty strings');
  }
  const timeoutMs = options.timeoutMs ?? 10_000;
  if (!Number.isInteger(timeoutMs) || timeoutMs < 100)
    throw invalidArg('timeoutMs must be an integer of at least 100');
  const tlsProblems: string[] = [];
  const tls = loadTlsMaterial(options, (option, text) => void tlsProblems.push(`${option} ${text}`));
  if (tlsProblems.length > 0) throw invalidArg(tlsProblems.join('; '));
  return {
    target,
    basePath: target.pathname.replace(/\/$/, ''),
    csrf:
      antiForgery === 'same-origin'
        ? undefined
        : { header: antiForgery.header.toLowerCase(), value: antiForgery.value },
    timeoutMs,
    agent: new Agent({
      keepAliveTimeout: 30_000,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      ...tlsConnectOptions(tls),
    }),
    nonces: new Map(),
    logger: options.logger ?? defaultLogger,
    rules: forwardingRules(options.forwardHeaders, options.methods),
  };
}

/** Forward one request: check it, call the API with the user's token, relay the answer. */
async function forward(proxy: ProxySettings, req: Request, res: Response): Promise<void> {
  res.set('Cache-Control', 'no-store');
  if (!proxy.rules.methods.has(req.method)) res.set('Allow', proxy.rules.allow);
  checkMethod(proxy.rules, req.method);
  const auth = authorizedAuth(proxy, req);
  const url = targetUrl(proxy, req.url);
  const headers = forwardedHeaders(proxy.rules, req);
  const streamed = !WITHOUT_BODY.has(req.method) && !req.readableEnded;
  if (streamed && req.headers['content-length'] !== undefined)
    headers['content-length'] = req.headers['content-length'];
  const body = streamed ? req : bodyOfParsed(req, headers);
  // May refresh the token: coded errors.
  const authorization = await auth.authorizationHeaders(req.method, url.href, proxy.nonces.get(url.origin));
  const controller = new AbortController();
  const send = (extra: Record<string, string>) =>
    request(url, {
      dispatcher: proxy.agent,
      method: req.method as 'GET',
      signal: controller.signal,
      headers: { ...headers, ...extra },
      body,
    });
  const timer = setTimeout(() => controller.abort(), proxy.timeoutMs);
  res.once('close', () => controller.abort()); // the browser went away: stop the API call
  try {
    let upstream = await send(authorization);
    const asked = resourceServerNonce(upstream.statusCode, upstream.headers);
    if (asked !== undefined) {
      proxy.nonces.set(url.origin, asked);
      if (!streamed) {
        // a streamed body cannot be sent twice
        await upstream.body.dump();
        upstream = await send(await auth.authorizationHeaders(req.method, url.href, asked));
      }
    }
    await relay(upstream, res, controller.signal);
  } catch (err) {
    if (isParLoginError(err)) throw err;
    if (res.headersSent) return void res.destroy();
    if (controller.signal.aborted || isTimeout(err))
      throw new ParLoginError('api_timeout', `The API did not answer within ${proxy.timeoutMs} ms.`, {
        cause: err,
      });
    throw new ParLoginError('api_unreachable', 'The API could not be reached.', { cause: err });
  } finally {
    clearTimeout(timer);
  }
}

/**
 * `req.auth` of a request that may go through: `parLogin()` mounted, the anti-forgery proof
 * present, the user logged in.
 *
 * @throws {ParLoginError} `not_mounted`, `csrf_rejected` or `unauthenticated`.
 */
function authorizedAuth(proxy: ProxySettings, req: Request): RequestAuth {
  const auth = req.auth;
  const mounted = mountedAuth(req);
  if (auth === undefined || mounted === undefined)
    throw new ParLoginError('not_mounted', 'apiProxy() needs parLogin() mounted before it.');
  const { csrf } = proxy;
  const proven =
    csrf === undefined ? isSameOrigin(req, mounted.appOrigin) : req.headers[csrf.header] === csrf.value;
  if (!proven) {
    throw new ParLoginError(
      'csrf_rejected',
      csrf === undefined
        ? "API calls must come from the app's own pages."
        : `API calls need the header ${csrf.header}.`,
    );
  }
  if (!auth.isAuthenticated()) throw new ParLoginError('unauthenticated', 'Not logged in.');
  return auth;
}

/** Relay the API's answer: status, headers it may return, body with backpressure. */
async function relay(upstream: Dispatcher.ResponseData, res: Response, signal: AbortSignal): Promise<void> {
  res.status(upstream.statusCode);
  const named = connectionNamed(upstream.headers.connection);
  for (const [name, value] of Object.entries(upstream.headers)) {
    if (value !== undefined && !NOT_RETURNED.has(name) && !named.has(name)) res.setHeader(name, value);
  }
  const cacheControl = upstream.headers['cache-control'];
  res.set('Cache-Control', typeof cacheControl === 'string' ? cacheControl : 'no-store');
  for await (const chunk of upstream.body) {
    // backpressure: a slow browser does not fill memory
    if (!res.write(chunk)) await once(res, 'drain', { signal });
  }
  res.end();
}

/** The API URL of a request path, which must stay under the target's path. */
function targetUrl({ target, basePath }: ProxySettings, relative: string): URL {
  const [path = '/', search = ''] = splitOnce(relative, '?');
  checkPath(path);
  const url = new URL(target.href);
  url.pathname = basePath + (path.startsWith('/') ? path : `/${path}`);
  url.search = search;
  // Dot segments (also percent-encoded) are resolved by the URL parser: stay under the target's path.
  if (
    url.origin !== target.origin ||
    !(url.pathname === basePath || url.pathname.startsWith(`${basePath}/`) || basePath === '')
  ) {
    throw new ParLoginError('invalid_request', 'The API path leaves the proxied API.');
  }
  return url;
}

/** A body an app's body parser already consumed, serialized again as JSON or form; else none. */
function bodyOfParsed(req: Request, headers: Record<string, string | string[]>): string | undefined {
  if (
    WITHOUT_BODY.has(req.method) ||
    req.body === undefined ||
    (typeof req.body === 'object' && Object.keys(req.body as object).length === 0)
  )
    return undefined;
  const type = String(req.headers['content-type'] ?? '');
  if (typeof req.body === 'string') return req.body;
  if (type.includes('application/x-www-form-urlencoded'))
    return new URLSearchParams(req.body as Record<string, string>).toString();
  headers['content-type'] = 'application/json';
  return JSON.stringify(req.body);
}

function splitOnce(value: string, separator: string): [string, string] {
  const at = value.indexOf(separator);
  return at < 0 ? [value, ''] : [value.slice(0, at), value.slice(at + 1)];
}

function parseTarget(value: unknown): URL {
  let url: URL;
  try {
    url = new URL(String(value));
  } catch {
    throw invalidArg('target must be an absolute http(s) URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw invalidArg('target must be an absolute http(s) URL');
  if (url.username || url.password || url.search || url.hash)
    throw invalidArg('target must not have credentials, a query or a fragment');
  return url;
}

function invalidArg(message: string): TypeError {
  return invalidArgument(`apiProxy: ${message}`);
}
