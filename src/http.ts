/**
 * The back channel to the AS: one undici keep-alive Agent per `parLogin()` instance, a deadline on
 * every request, a size limit on every response body, and no redirects (RFC 9126 §2, RFC 6749 §3.2:
 * endpoints are used as published; a redirect is a broken response, never followed).
 *
 * @module
 */
import { Agent, request } from 'undici';
import { ParLoginError } from './errors.js';
import { tlsConnectOptions, type TlsMaterial } from './mtls.js';

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
  postForm(url: string, form: URLSearchParams, headers: Record<string, string>, what: string): Promise<BackChannelResponse>;
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
    keepAliveTimeout: 30_000, connections: 64, headersTimeout: timeoutMs, bodyTimeout: timeoutMs,
    ...tlsConnectOptions(tls),
  });

  async function send(url: string, method: 'GET' | 'POST', headers: Record<string, string>, body: string | undefined, what: string): Promise<BackChannelResponse> {
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    try {
      const response = await request(url, {
        dispatcher: agent, method, headers: { 'user-agent': USER_AGENT, accept: 'application/json', ...headers },
        body, signal: controller.signal,
      } as Parameters<typeof request>[1]);
      const text = await readLimited(response.body, maxResponseBytes, what);
      return { status: response.statusCode, headers: response.headers, json: parseJson(text) };
    } catch (err) {
      if (err instanceof ParLoginError) throw err;
      if (timedOut || isTimeout(err)) {
        throw new ParLoginError('as_timeout', `The authorization server did not answer the ${what} request within ${timeoutMs} ms.`, { cause: err });
      }
      throw new ParLoginError('as_unreachable', `The authorization server could not be reached for the ${what} request.`, { cause: err });
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    get: (url, what, headers = {}) => send(url, 'GET', headers, undefined, what),
    postForm: (url, form, headers, what) => send(url, 'POST', { 'content-type': FORM_TYPE, ...headers }, form.toString(), what),
    close: () => agent.close(),
  };
}

async function readLimited(body: AsyncIterable<Buffer> & { destroy?: () => void }, limit: number, what: string): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > limit) {
      body.destroy?.();
      throw new ParLoginError('as_bad_response', `The ${what} response is larger than ${limit} bytes.`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
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
  return code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT';
}

/** A plain JSON object, or `undefined`. */
export function asObject(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}
