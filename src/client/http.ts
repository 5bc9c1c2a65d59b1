/**
 * The back channel to the AS: one undici keep-alive Agent per `parLogin()` instance, a deadline on
 * every request, a size limit on every response body, and no redirects (RFC 9126 §2, RFC 6749 §3.2:
 * endpoints are used as published; a redirect is a broken response, never followed).
 *
 * @module
 */
import { Agent } from 'undici';
import { ParLoginError } from '../errors.js';
import { tlsConnectOptions, type TlsMaterial } from '../config/tls-material.js';

/** A back-channel response, its body read in full. */
export interface BackChannelResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The body parsed as JSON, or `undefined` when it is not JSON. */
  readonly json: unknown;
}

/** The back-channel client of one instance. */
export interface BackChannel {
  /** GET a URL. `what` names the step in error messages (e.g. "discovery"). */
  get(url: string, what: string, headers?: Record<string, string>): Promise<BackChannelResponse>;
  /** POST a form. */
  postForm(
    url: string,
    form: URLSearchParams,
    headers: Record<string, string>,
    what: string,
  ): Promise<BackChannelResponse>;
  /** Close the pool. */
  close(): Promise<void>;
}

/** Settings of {@link createBackChannel}. */
export interface BackChannelOptions {
  /** Deadline for the whole exchange, headers and body, in milliseconds. */
  timeoutMs: number;
  /** Largest body accepted, in bytes. */
  maxResponseBytes: number;
  /** Client certificate and extra CAs for TLS connections (RFC 8705 mutual TLS). */
  tls?: TlsMaterial;
}

const USER_AGENT = 'express-par-login';
const FORM_TYPE = 'application/x-www-form-urlencoded';

/**
 * Create the back channel: a keep-alive Agent whose connections are reused across logins.
 */
export function createBackChannel({ timeoutMs, maxResponseBytes, tls }: BackChannelOptions): BackChannel {
  const agent = new Agent({
    keepAliveTimeout: 30_000,
    connections: 64,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    ...tlsConnectOptions(tls),
  });

  /** Where a URL goes, parsed once per URL (the back channel talks to a handful of endpoints). */
  const targets = new Map<string, { origin: string; path: string }>();
  function targetOf(url: string): { origin: string; path: string } {
    let target = targets.get(url);
    if (target === undefined) {
      const parsed = new URL(url);
      target = { origin: parsed.origin, path: `${parsed.pathname}${parsed.search}` };
      if (targets.size < 64) targets.set(url, target);
    }
    return target;
  }

  /**
   * One exchange through undici's dispatcher with a handler that collects the body in memory:
   * cheaper than `request()`, which wraps every body in a Readable stream read back by an async
   * iterator. The deadline covers the whole exchange; the size limit aborts the body as it comes.
   */
  function send(
    url: string,
    method: 'GET' | 'POST',
    headers: Record<string, string>,
    body: string | undefined,
    what: string,
  ): Promise<BackChannelResponse> {
    let target: { origin: string; path: string };
    try {
      target = targetOf(url);
    } catch (err) {
      return Promise.reject(
        new ParLoginError(
          'as_unreachable',
          `The authorization server could not be reached for the ${what} request.`,
          { cause: err },
        ),
      );
    }
    return new Promise((resolve, reject) => {
      let controller: { abort(reason: Error): void } | undefined;
      let timedOut = false;
      let status = 0;
      let responseHeaders: BackChannelResponse['headers'] = {};
      const chunks: Buffer[] = [];
      let size = 0;
      const timer = setTimeout(() => {
        timedOut = true;
        controller?.abort(new Error('deadline'));
      }, timeoutMs);
      const fail = (err: unknown): void => {
        clearTimeout(timer);
        if (err instanceof ParLoginError) return reject(err);
        if (timedOut || isTimeout(err)) {
          return reject(
            new ParLoginError(
              'as_timeout',
              `The authorization server did not answer the ${what} request within ${timeoutMs} ms.`,
              { cause: err },
            ),
          );
        }
        reject(
          new ParLoginError(
            'as_unreachable',
            `The authorization server could not be reached for the ${what} request.`,
            { cause: err },
          ),
        );
      };
      try {
        agent.dispatch(
          {
            origin: target.origin,
            path: target.path,
            method,
            body: body ?? null,
            headers: { 'user-agent': USER_AGENT, accept: 'application/json', ...headers },
          },
          {
            onRequestStart(started) {
              controller = started;
              if (timedOut) started.abort(new Error('deadline'));
            },
            onResponseStart(_controller, statusCode, received) {
              status = statusCode;
              responseHeaders = received;
            },
            onResponseData(receiving, chunk) {
              size += chunk.length;
              if (size > maxResponseBytes)
                receiving.abort(
                  new ParLoginError(
                    'as_bad_response',
                    `The ${what} response is larger than ${maxResponseBytes} bytes.`,
                  ),
                );
              else chunks.push(chunk);
            },
            onResponseEnd() {
              clearTimeout(timer);
              const text =
                chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8');
              resolve({ status, headers: responseHeaders, json: parseJson(text) });
            },
            onResponseError(_controller, err) {
              fail(err);
            },
          },
        );
      } catch (err) {
        fail(err);
      }
    });
  }

  return {
    get: (url, what, headers = {}) => send(url, 'GET', headers, undefined, what),
    postForm: (url, form, headers, what) =>
      send(url, 'POST', { 'content-type': FORM_TYPE, ...headers }, form.toString(), what),
    close: () => agent.close(),
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Whether an undici failure is one of its timeouts (connect, headers, body). */
export function isTimeout(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return (
    code === 'UND_ERR_HEADERS_TIMEOUT' ||
    code === 'UND_ERR_BODY_TIMEOUT' ||
    code === 'UND_ERR_CONNECT_TIMEOUT'
  );
}

/** A plain JSON object, or `undefined`. */
export function asObject(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}
