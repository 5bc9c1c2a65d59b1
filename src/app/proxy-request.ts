/**
 * What of a browser's request `apiProxy()` lets through to the API: the path (refused when an API
 * or a gateway that decodes before it resolves dot segments could read it as another path), the
 * method (an allow-list; never TRACE or CONNECT), and the headers (an allow-list; never the
 * browser's cookies or credentials, never a header the `Connection` header names, never a
 * forwarding or identity header the client wrote: `X-Forwarded-*` are set from what Express knows).
 *
 * @see https://www.rfc-editor.org/rfc/rfc3986#section-5.2.4
 * @see https://www.rfc-editor.org/rfc/rfc9110#section-7.6.1
 * @see https://www.rfc-editor.org/rfc/rfc9110#section-9.3.8
 * @module
 */
import type { Request } from 'express';
import { invalidArgument, ParLoginError } from '../errors.js';

/** Request headers forwarded by default: content negotiation, conditional and range requests, tracing. */
export const DEFAULT_FORWARDED_HEADERS: readonly string[] = Object.freeze([
  'accept',
  'accept-encoding',
  'accept-language',
  'cache-control',
  'content-encoding',
  'content-language',
  'content-type',
  'if-match',
  'if-modified-since',
  'if-none-match',
  'if-range',
  'if-unmodified-since',
  'pragma',
  'range',
  'user-agent',
  'x-request-id',
  'x-requested-with',
  'traceparent',
  'tracestate',
  'baggage',
]);

/** Methods forwarded by default. */
export const DEFAULT_METHODS: readonly string[] = Object.freeze([
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'PATCH',
  'DELETE',
  'OPTIONS',
]);

/** Methods never forwarded: TRACE echoes the request (credentials included), CONNECT opens a tunnel. */
const NEVER_METHODS = new Set(['TRACE', 'TRACK', 'CONNECT']);

/**
 * Headers of one connection, never passed on in either direction (RFC 9110 §7.6.1), with `host` and
 * `content-length`, which the proxy's own request and answer set.
 */
export const HOP_BY_HOP: readonly string[] = Object.freeze([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'host',
  'content-length',
]);

/**
 * Headers never forwarded, whatever is configured: the hop-by-hop ones, the browser's credentials,
 * and the forwarding headers the proxy sets itself.
 */
const NEVER_HEADERS = new Set([
  ...HOP_BY_HOP,
  'cookie',
  'authorization',
  'proxy-authorization',
  'dpop',
  'forwarded',
  'via',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-forwarded-port',
  'x-forwarded-prefix',
  'x-real-ip',
]);

/** What one proxy forwards, validated once. */
export interface ForwardingRules {
  /** Header names (lower case) forwarded when the request carries them. */
  readonly headers: ReadonlySet<string>;
  /** Methods (upper case) forwarded. */
  readonly methods: ReadonlySet<string>;
  /** The `Allow` header of a refused method. */
  readonly allow: string;
}

/**
 * The rules of `apiProxy({ forwardHeaders, methods })`: the default headers plus `forwardHeaders`,
 * and `methods` (default {@link DEFAULT_METHODS}).
 *
 * @throws {TypeError} `ERR_INVALID_ARG_VALUE` for a header that is never forwarded, or a method
 *   that is never allowed.
 */
export function forwardingRules(
  forwardHeaders: readonly string[] = [],
  methods: readonly string[] = DEFAULT_METHODS,
): ForwardingRules {
  const headers = new Set(DEFAULT_FORWARDED_HEADERS);
  for (const name of forwardHeaders) {
    const lower = String(name).toLowerCase();
    if (!/^[!#$%&'*+.^_`|~0-9a-z-]+$/.test(lower) || NEVER_HEADERS.has(lower))
      throw invalidArgument(`apiProxy: forwardHeaders may not name "${lower.slice(0, 40)}"`);
    headers.add(lower);
  }
  const allowed = new Set<string>();
  for (const method of methods) {
    const upper = String(method).toUpperCase();
    if (!/^[A-Z]+$/.test(upper) || NEVER_METHODS.has(upper))
      throw invalidArgument(`apiProxy: methods may not include "${upper.slice(0, 20)}"`);
    allowed.add(upper);
  }
  if (allowed.size === 0) throw invalidArgument('apiProxy: methods must name at least one method');
  return { headers, methods: allowed, allow: [...allowed].join(', ') };
}

/**
 * Refuse a method the rules do not allow.
 *
 * @throws {ParLoginError} `method_not_allowed` (405).
 */
export function checkMethod(rules: ForwardingRules, method: string): void {
  if (!rules.methods.has(method))
    throw new ParLoginError(
      'method_not_allowed',
      `The API proxy does not forward ${method.slice(0, 20)} requests.`,
    );
}

/** Percent-encodings that a decoding server could read as a separator, a dot, a percent or a control character. */
const REINTERPRETABLE = /%(?:2f|5c|2e|25|0[0-9a-f]|1[0-9a-f]|7f)/i;
/** A `%` not followed by two hex digits. */
const MALFORMED = /%(?![0-9a-f]{2})/i;

/**
 * Check the path of a proxied request (the part after the mount point, before `?`): it is
 * forwarded as is, so it must mean the same path to every server that reads it. Refused: `\` and
 * `;` (path parameters for Tomcat and Spring), encoded `/`, `\`, `.`, `%` and control characters,
 * malformed percent-encodings, and `.` or `..` segments, raw or decoded.
 *
 * @throws {ParLoginError} `api_path_rejected` (400).
 */
export function checkPath(path: string): void {
  const refuse = (why: string): never => {
    throw new ParLoginError('api_path_rejected', `The API path is refused: ${why}.`, {
      hint: 'Request the API path without dot segments, encoded separators or ";".',
    });
  };
  if (path.includes('\\') || path.includes(';')) refuse('it contains "\\" or ";"');
  if (MALFORMED.test(path)) refuse('it has a malformed percent-encoding');
  if (REINTERPRETABLE.test(path)) refuse('it encodes a separator, a dot, a percent or a control character');
  for (const segment of path.split('/')) {
    let decoded: string;
    try {
      decoded = decodeURIComponent(segment);
    } catch {
      return refuse('it has a percent-encoding that is not UTF-8');
    }
    if (decoded === '.' || decoded === '..') refuse('it has a dot segment');
  }
}

/**
 * The request headers sent to the API: those of the rules the request carries, minus any header
 * its `Connection` header names, plus `X-Forwarded-For`, `-Proto` and `-Host` from what Express
 * knows (`req.ip`, `req.protocol`, `req.hostname`: with `trust proxy`, the trusted proxy's view).
 */
export function forwardedHeaders(rules: ForwardingRules, req: Request): Record<string, string | string[]> {
  const named = connectionNamed(req.headers.connection);
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined && rules.headers.has(name) && !named.has(name)) headers[name] = value;
  }
  if (req.ip !== undefined) headers['x-forwarded-for'] = req.ip;
  headers['x-forwarded-proto'] = req.protocol;
  if (req.hostname) headers['x-forwarded-host'] = req.hostname;
  return headers;
}

/** The header names a `Connection` header lists (lower case). */
export function connectionNamed(connection: string | string[] | undefined): Set<string> {
  if (connection === undefined) return new Set();
  const list = Array.isArray(connection) ? connection.join(',') : connection;
  return new Set(list.split(',').map((name) => name.trim().toLowerCase()));
}
