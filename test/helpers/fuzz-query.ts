/**
 * Arbitrary query strings for fuzzing the app's routes with fast-check, and a raw HTTP client that
 * sends them byte for byte (URL parsers would tidy them up first).
 *
 * A query is a list of `key=value` pairs, each written in one of three ways: percent-encoded,
 * form-encoded (`+` for space), or raw (printable ASCII as is, so `&`, `=`, `%` and `+` in a value
 * split or bend the parameters, as a hand-made URL would). Values mix real-looking material (the
 * states of pending logins, authorization codes, the issuer) with garbage: any code point, control
 * characters, markup, broken percent escapes, and values of a few kilobytes.
 *
 * @module
 */
import { Agent, request, type IncomingHttpHeaders } from 'node:http';
import fc from 'fast-check';

/** Material a value can be drawn from at run time (pools grow while the fuzzer runs). */
export interface FuzzPools {
  states: string[];
  codes: string[];
  issuer: string;
}

/** A value: literal text, or a reference into a pool resolved when the request is built. */
export type FuzzValue = string | { pool: 'states' | 'codes'; index: number } | { pool: 'issuer' };

/** One parameter as generated. */
export interface FuzzPair {
  key: string;
  value: FuzzValue;
  encoding: 'percent' | 'form' | 'raw';
}

/** A generated query string, before pools are resolved. */
export interface FuzzQuery {
  pairs: FuzzPair[];
  separator: string;
  junk: string | null;
}

const CALLBACK_KEYS = [
  'state',
  'code',
  'iss',
  'error',
  'error_description',
  'returnTo',
  'session_state',
  'request_uri',
  'client_id',
  '__proto__',
  'constructor',
  'hasOwnProperty',
  'state[]',
  'state[0]',
  'State',
  'state ',
  'code\u0000',
  '',
];

const NASTY = [
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(1)>',
  'https://evil.example/',
  '//evil.example',
  '/\\evil.example',
  'javascript:alert(1)',
  '%',
  '%zz',
  '%E0%A4%A',
  '%00',
  '\r\nSet-Cookie: owned=1',
  'access_denied',
  'null',
  'undefined',
  '[object Object]',
  '\u202e\u0000\ud800',
  'ﬀ𝔘𝔫𝔦𝔠𝔬𝔡𝔢',
  ' ',
];

const controlChars = fc.string({
  unit: fc.integer({ min: 0, max: 31 }).map((c) => String.fromCharCode(c)),
  minLength: 1,
  maxLength: 8,
});

/** Arbitrary values; `withPools` adds references to real states, codes and the issuer. */
export function fuzzValue(withPools: boolean): fc.Arbitrary<FuzzValue> {
  const literal: Array<fc.WeightedArbitrary<FuzzValue>> = [
    { weight: 4, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
    { weight: 1, arbitrary: controlChars },
    { weight: 2, arbitrary: fc.constantFrom(...NASTY) },
    { weight: 1, arbitrary: fc.integer({ min: 1_000, max: 5_000 }).map((n) => 'A'.repeat(n)) },
  ];
  if (!withPools) return fc.oneof(...literal);
  return fc.oneof(
    ...literal,
    { weight: 5, arbitrary: poolRef('states') },
    { weight: 2, arbitrary: poolRef('codes') },
    { weight: 3, arbitrary: fc.constant({ pool: 'issuer' as const }) },
  );
}

/** A reference to one of the 16 newest entries of a pool (the newest states are the pending ones). */
function poolRef(pool: 'states' | 'codes'): fc.Arbitrary<FuzzValue> {
  return fc.record({ pool: fc.constant(pool), index: fc.nat({ max: 15 }) });
}

const encodingArb = fc.constantFrom('percent' as const, 'form' as const, 'raw' as const);

/**
 * Queries shaped like a real callback: `state` from the pool, `code` and `iss` mostly real, each
 * sometimes left out, plus up to three fuzzed extras, in a shuffled order. These get past the state
 * and issuer checks to the token exchange.
 */
export function fuzzCallbackQuery(): fc.Arbitrary<FuzzQuery> {
  const mostly = (real: fc.Arbitrary<FuzzValue>) =>
    fc.oneof({ weight: 4, arbitrary: real }, { weight: 1, arbitrary: fuzzValue(false) });
  const core = fc.tuple(
    fc.record({ key: fc.constant('state'), value: poolRef('states'), encoding: encodingArb }),
    fc.record({ key: fc.constant('code'), value: mostly(poolRef('codes')), encoding: encodingArb }),
    fc.record({
      key: fc.constant('iss'),
      value: mostly(fc.constant({ pool: 'issuer' as const })),
      encoding: encodingArb,
    }),
  );
  const kept = fc.array(
    fc.nat({ max: 5 }).map((n) => n > 0),
    { minLength: 3, maxLength: 3 },
  );
  const extras = fc.array(
    fc.record({ key: fc.constantFrom(...CALLBACK_KEYS), value: fuzzValue(true), encoding: encodingArb }),
    { maxLength: 3 },
  );
  return fc
    .record({ core, kept, extras, rotate: fc.nat({ max: 5 }) })
    .map(({ core: pairs, kept: keep, extras: more, rotate }) => {
      const all = [...pairs.filter((_, index) => keep[index]), ...more];
      const shift = all.length === 0 ? 0 : rotate % all.length;
      return { pairs: [...all.slice(shift), ...all.slice(0, shift)], separator: '&', junk: null };
    });
}

/** Arbitrary query strings; `keys` are preferred names, mixed with arbitrary ones. */
export function fuzzQuery(
  keys: readonly string[] = CALLBACK_KEYS,
  withPools = true,
): fc.Arbitrary<FuzzQuery> {
  const key = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...keys) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }) },
  );
  const pair = fc.record({ key, value: fuzzValue(withPools), encoding: encodingArb });
  return fc.record({
    pairs: fc.array(pair, { maxLength: 8 }),
    separator: fc.constantFrom('&', '&', '&', ';', '&&'),
    junk: fc.option(fc.constantFrom('%', '=', '&=&', '==', 'state', 'state=&state=', '?', '&state'), {
      freq: 5,
    }),
  });
}

const hex = (byte: number): string => `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
const UNRESERVED = /[A-Za-z0-9\-._~]/;
/** How each byte is written, per encoding. */
const BYTE_TABLES: Record<FuzzPair['encoding'], string[]> = {
  percent: Array.from({ length: 256 }, (_, b) =>
    UNRESERVED.test(String.fromCharCode(b)) ? String.fromCharCode(b) : hex(b),
  ),
  form: Array.from({ length: 256 }, (_, b) =>
    b === 0x20 ? '+' : UNRESERVED.test(String.fromCharCode(b)) ? String.fromCharCode(b) : hex(b),
  ),
  raw: Array.from({ length: 256 }, (_, b) =>
    b >= 0x21 && b <= 0x7e && b !== 0x23 ? String.fromCharCode(b) : hex(b),
  ),
};
const encoder = new TextEncoder();

/** Write text for the wire: raw keeps printable ASCII but `#`; the rest is UTF-8 percent-encoded. */
export function wire(text: string, encoding: FuzzPair['encoding']): string {
  const table = BYTE_TABLES[encoding];
  let out = '';
  for (const byte of encoder.encode(text)) out += table[byte];
  return out;
}

/** Resolve pool references and write the query, keeping it under `maxLength` (Node refuses long request lines). */
export function renderQuery(query: FuzzQuery, pools: FuzzPools, maxLength = 12_000): string {
  const parts: string[] = [];
  let length = 0;
  for (const { key, value, encoding } of query.pairs) {
    const text =
      typeof value === 'string'
        ? value
        : value.pool === 'issuer'
          ? pools.issuer
          : pools[value.pool].length === 0
            ? ''
            : pools[value.pool].at(-1 - (value.index % pools[value.pool].length))!;
    const part = `${wire(key, encoding)}=${wire(text, encoding)}`;
    if (length + part.length > maxLength) break;
    parts.push(part);
    length += part.length + query.separator.length;
  }
  return parts.join(query.separator) + (query.junk === null ? '' : query.separator + query.junk);
}

/** A raw response. */
export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

const agent = new Agent({ keepAlive: true, maxSockets: 8 });

/** GET `path` (sent exactly as given) from `origin`. */
export function rawGet(
  origin: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<RawResponse> {
  const { hostname, port } = new URL(origin);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, path, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Close the raw client's keep-alive sockets. */
export function closeRawClient(): void {
  agent.destroy();
}

/** The `name=value` pair of a response's `Set-Cookie` for `name`, if any. */
export function cookieFrom(headers: IncomingHttpHeaders, name: string): string | undefined {
  return headers['set-cookie']?.find((c) => c.startsWith(`${name}=`))?.split(';')[0];
}

/**
 * The `Cookie` header a browser sends after receiving these `Set-Cookie` headers on top of
 * `cookieHeader`: new cookies added or replaced, `Max-Age=0` ones removed.
 */
export function applySetCookies(cookieHeader: string, headers: IncomingHttpHeaders): string {
  const jar = new Map(
    cookieHeader
      .split('; ')
      .filter(Boolean)
      .map((pair) => [pair.slice(0, pair.indexOf('=')), pair] as const),
  );
  for (const header of headers['set-cookie'] ?? []) {
    const pair = header.split(';')[0]!;
    const name = pair.slice(0, pair.indexOf('='));
    if (/;\s*Max-Age=0(;|$)/i.test(header) || /;\s*Expires=Thu, 01 Jan 1970/i.test(header)) jar.delete(name);
    else jar.set(name, pair);
  }
  return [...jar.values()].join('; ');
}

/** Tags the middleware's own pages use; any other tag in a page is an injection. */
const PAGE_TAGS = new Set([
  '!doctype',
  'html',
  'head',
  'meta',
  'title',
  'style',
  'body',
  'h1',
  'p',
  'code',
  'a',
  'form',
  'button',
]);

/** The tag names in an HTML page that the middleware's pages never use. */
export function foreignTags(html: string): string[] {
  return [...html.matchAll(/<\/?([a-zA-Z!][^\s>/]*)/g)]
    .map((m) => m[1]!.toLowerCase())
    .filter((tag) => !PAGE_TAGS.has(tag));
}
