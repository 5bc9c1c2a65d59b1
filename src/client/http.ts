/**
 * The back channel to the AS: one undici keep-alive Agent per `parLogin()` instance, a deadline on
 * every request, a size limit on every response body, and no redirects (RFC 9126 §2, RFC 6749 §3.2:
 * endpoints are used as published; a redirect is a broken response, never followed).
 *
 * @module
 */
import { Agent, type Dispatcher } from 'undici';
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

/** Where a URL goes: the origin undici connects to and the path it asks for. */
interface Target {
  readonly origin: string;
  readonly path: string;
}

/** What every exchange of one back channel shares: its pool, its parsed targets, and its limits. */
interface Channel {
  readonly agent: Agent;
  /** Targets parsed once per URL (the back channel talks to a handful of endpoints). */
  readonly targets: Map<string, Target>;
  readonly timeoutMs: number;
  readonly maxResponseBytes: number;
}

/**
 * Create the back channel: a keep-alive Agent whose connections are reused across logins.
 */
export function createBackChannel({ timeoutMs, maxResponseBytes, tls }: BackChannelOptions): BackChannel {
  const channel: Channel = {
    agent: new Agent({
      keepAliveTimeout: 30_000,
      connections: 64,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      ...tlsConnectOptions(tls),
    }),
    targets: new Map(),
    timeoutMs,
    maxResponseBytes,
  };
  return {
    get: (url, what, headers = {}) => send(channel, url, 'GET', headers, undefined, what),
    postForm: (url, form, headers, what) =>
      send(channel, url, 'POST', { 'content-type': FORM_TYPE, ...headers }, form.toString(), what),
    close: () => channel.agent.close(),
  };
}

/**
 * One exchange through undici's dispatcher with a handler that collects the body in memory:
 * cheaper than `request()`, which wraps every body in a Readable stream read back by an async
 * iterator. The deadline covers the whole exchange; the size limit aborts the body as it comes.
 */
function send(
  channel: Channel,
  url: string,
  method: 'GET' | 'POST',
  headers: Record<string, string>,
  body: string | undefined,
  what: string,
): Promise<BackChannelResponse> {
  let target: Target;
  try {
    target = targetOf(channel.targets, url);
  } catch (err) {
    return Promise.reject(unreachable(what, url.slice(0, 200), err));
  }
  return new Promise((resolve, reject) => {
    const exchange = new Exchange(channel, what, target, resolve, reject);
    try {
      channel.agent.dispatch(dispatchOptions(target, method, headers, body), exchange);
    } catch (err) {
      exchange.fail(err);
    }
  });
}

/** The target of `url`, parsed on first use and remembered for the first 64 URLs. Throws on a bad URL. */
function targetOf(targets: Map<string, Target>, url: string): Target {
  let target = targets.get(url);
  if (target === undefined) {
    const parsed = new URL(url);
    target = { origin: parsed.origin, path: `${parsed.pathname}${parsed.search}` };
    if (targets.size < 64) targets.set(url, target);
  }
  return target;
}

/** The request undici dispatches: our user agent, JSON accepted, then the caller's headers. */
function dispatchOptions(
  target: Target,
  method: 'GET' | 'POST',
  headers: Record<string, string>,
  body: string | undefined,
): Dispatcher.DispatchOptions {
  return {
    origin: target.origin,
    path: target.path,
    method,
    body: body ?? null,
    headers: { 'user-agent': USER_AGENT, accept: 'application/json', ...headers },
  };
}

/**
 * The undici handler of one exchange, and its state: it arms the deadline, collects the body within
 * `maxResponseBytes`, and settles the exchange's promise once, with the response or a coded error.
 */
class Exchange implements Dispatcher.DispatchHandler {
  readonly #channel: Channel;
  readonly #what: string;
  readonly #target: Target;
  readonly #resolve: (response: BackChannelResponse) => void;
  readonly #reject: (err: ParLoginError) => void;
  readonly #timer: NodeJS.Timeout;
  #controller: { abort(reason: Error): void } | undefined;
  #timedOut = false;
  #status = 0;
  #headers: BackChannelResponse['headers'] = {};
  readonly #chunks: Buffer[] = [];
  #size = 0;

  constructor(
    channel: Channel,
    what: string,
    target: Target,
    resolve: (response: BackChannelResponse) => void,
    reject: (err: ParLoginError) => void,
  ) {
    this.#channel = channel;
    this.#what = what;
    this.#target = target;
    this.#resolve = resolve;
    this.#reject = reject;
    this.#timer = setTimeout(expire, channel.timeoutMs, this);
  }

  /** The deadline has passed: abort the exchange now, or as soon as it starts. */
  expire(): void {
    this.#timedOut = true;
    this.#controller?.abort(new Error('deadline'));
  }

  /** The exchange failed: reject with its coded error. */
  fail(err: unknown): void {
    clearTimeout(this.#timer);
    const url = this.#target.origin + this.#target.path.replace(/\?.*$/s, '');
    this.#reject(exchangeError(err, this.#what, url, this.#channel.timeoutMs, this.#timedOut));
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    if (this.#timedOut) controller.abort(new Error('deadline'));
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: BackChannelResponse['headers'],
  ): void {
    this.#status = statusCode;
    this.#headers = headers;
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.#size += chunk.length;
    if (this.#size > this.#channel.maxResponseBytes) {
      controller.abort(
        new ParLoginError(
          'as_bad_response',
          `The ${this.#what} response is larger than ${this.#channel.maxResponseBytes} bytes.`,
        ),
      );
    } else this.#chunks.push(chunk);
  }

  onResponseEnd(): void {
    clearTimeout(this.#timer);
    const chunks = this.#chunks;
    const text = chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8');
    this.#resolve({ status: this.#status, headers: this.#headers, json: parseJson(text) });
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    this.fail(err);
  }
}

/** The deadline timer's callback (a module function: no closure per exchange). */
function expire(exchange: Exchange): void {
  exchange.expire();
}

/**
 * The coded error of a failed exchange: a ParLoginError as it is (the size limit), a timeout when the
 * deadline passed or undici timed out, and otherwise an unreachable AS.
 */
function exchangeError(
  err: unknown,
  what: string,
  url: string,
  timeoutMs: number,
  timedOut: boolean,
): ParLoginError {
  if (err instanceof ParLoginError) return err;
  if (timedOut || isTimeout(err)) {
    return new ParLoginError(
      'as_timeout',
      `The authorization server did not answer the ${what} request to ${url} within ${timeoutMs} ms ` +
        '(OIDC_HTTP_TIMEOUT_MS).',
      { cause: err },
    );
  }
  return unreachable(what, url, err);
}

/**
 * The error of an AS that could not be reached (a bad URL, a refused connection, a reset), naming the
 * URL (without its query) and the system's reason, e.g. `connect ECONNREFUSED 127.0.0.1:443`.
 */
function unreachable(what: string, url: string, cause: unknown): ParLoginError {
  const reason = causeText(cause);
  return new ParLoginError(
    'as_unreachable',
    `The authorization server could not be reached for the ${what} request to ${url}` +
      `${reason === '' ? '' : `: ${reason}`}.`,
    { cause },
  );
}

/**
 * The reason of a network failure, from the error or the system error it wraps, capped; empty when
 * there is none. (Errors may come from another realm, so no `instanceof Error`.)
 */
function causeText(err: unknown): string {
  const outer = err as { message?: unknown; code?: unknown; cause?: unknown } | null | undefined;
  const inner = outer?.cause as { message?: unknown; code?: unknown } | null | undefined;
  for (const candidate of [inner, outer]) {
    if (typeof candidate?.message === 'string' && candidate.message !== '')
      return candidate.message.slice(0, 200);
    if (typeof candidate?.code === 'string') return candidate.code;
  }
  return '';
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
