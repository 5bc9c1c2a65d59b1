/**
 * A small, scriptable, misbehaving authorization server for tests: the misbehaviour a real AS
 * (oidc-provider) will not produce on request. It serves discovery, PAR, an authorization endpoint
 * that answers at once (no login page: `GET /auth?client_id&request_uri` redirects to the pushed
 * `redirect_uri` with `code`, `state` and `iss`; a classic request with its parameters in the query
 * is answered the same way), a token endpoint that checks the code, PKCE and
 * HTTP Basic client authentication, and a JWKS. ID tokens are signed with its own ES256 keys.
 *
 * Each endpoint can be scripted ({@link Misbehaviour}); ID tokens can be tampered with
 * ({@link IdTokenScript}); {@link HostileAs.rotateKey} rotates the signing key.
 *
 * @module
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  exportJWK,
  generateKeyPair,
  SignJWT,
  UnsecuredJWT,
  type CryptoKey,
  type JWK,
  type JWTPayload,
} from 'jose';
import { listen, type Listening } from '../../sample-app/listen.js';

/** The endpoints of the hostile AS. */
export type EndpointName = 'discovery' | 'par' | 'auth' | 'token' | 'jwks';

/** Where each endpoint lives, below the issuer. */
export const ENDPOINT_PATHS: Readonly<Record<EndpointName, string>> = Object.freeze({
  discovery: '/.well-known/openid-configuration',
  par: '/par',
  auth: '/auth',
  token: '/token',
  jwks: '/jwks',
});

/** How one endpoint misbehaves. Unset fields keep the endpoint's normal answer. */
export interface Misbehaviour {
  /** Answer with this status instead. */
  status?: number;
  /** Extra or replacing response headers. */
  headers?: Record<string, string>;
  /**
   * Replace the body: a string is sent as is, anything else as JSON (`undefined` fields vanish).
   * A function receives the normal JSON body and returns the replacement.
   */
  body?: unknown;
  /** Wait this long before answering, in ms. */
  delayMs?: number;
  /** `silent`: never answer. `body`: send the headers and part of the body, then never finish. */
  hang?: 'silent' | 'body';
  /** Answer a JSON object padded to this many bytes (streamed). */
  hugeBytes?: number;
  /** Answer `302` to this URL. */
  redirectTo?: string;
  /** Destroy the connection without answering. */
  destroy?: boolean;
}

/** A script for one endpoint: a fixed misbehaviour, or one chosen per request (`undefined`: behave). */
export type Script = Misbehaviour | ((request: AsRequest) => Misbehaviour | undefined);

/** How the next ID tokens are made. */
export interface IdTokenScript {
  /** Change the claims (the normal ones are given: iss, aud, sub, nonce, iat, exp, name). */
  claims?: (claims: JWTPayload) => JWTPayload;
  /** Protected header fields set over the normal `{alg: 'ES256', kid}`. */
  header?: Record<string, unknown>;
  /** Sign this text as the payload instead of the claims (with the `current` or `stranger` key). */
  rawPayload?: string;
  /**
   * `current`: the published key. `none`: unsigned (`alg: none`). `client-secret`: HS256 keyed with
   * the client secret. `stranger`: a key the JWKS never publishes (its own `kid`, unless `header` sets one).
   * @default 'current'
   */
  signer?: 'current' | 'none' | 'client-secret' | 'stranger';
}

/** A request the hostile AS received (recorded on arrival, before any answer). */
export interface AsRequest {
  endpoint: EndpointName | 'other';
  method: string;
  /** The path with its query. */
  url: string;
  headers: IncomingMessage['headers'];
  /** Form fields of a POST body. */
  form: Record<string, string>;
}

/** What the token endpoint issued, for tests that look for leaks. */
export interface IssuedTokens {
  code: string;
  accessToken: string;
  refreshToken: string;
  idToken: string;
}

/** A running hostile AS. */
export interface HostileAs {
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** Every request received, in order. */
  readonly requests: AsRequest[];
  /** Per-endpoint scripts; assign and delete freely between requests. */
  readonly script: Partial<Record<EndpointName, Script>>;
  /** How ID tokens are made; replace freely. */
  idToken: IdTokenScript;
  /** Every token set the token endpoint minted for a valid grant (also when a script replaced the answer). */
  readonly issued: IssuedTokens[];
  /** The `kid` of the current signing key. */
  readonly kid: string;
  /** The URL of an endpoint, e.g. `url('token')`. */
  url(endpoint: EndpointName): string;
  /** How many requests an endpoint received. */
  count(endpoint: EndpointName | 'other'): number;
  /** A new signing key with a new `kid`; the JWKS publishes the old and the new one. Returns the kid. */
  rotateKey(): Promise<string>;
  /** Forget scripts, the ID token script and recorded requests. Keys and pending codes stay. */
  reset(): void;
  close(): Promise<void>;
}

/** Options of {@link startHostileAs}: the one registered client (`hostile-client` with a random secret). */
export interface HostileAsOptions {
  clientId?: string;
  clientSecret?: string;
}

interface Granted {
  params: Record<string, string>;
  used: boolean;
}
interface SigningKeyPair {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}
interface NormalAnswer {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

const random = (): string => randomBytes(24).toString('base64url');
const s256 = (verifier: string): string => createHash('sha256').update(verifier).digest('base64url');
const formEncode = (value: string): string => new URLSearchParams([['', value]]).toString().slice(1);

async function newKey(): Promise<SigningKeyPair> {
  const kid = randomUUID();
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  return { kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' } };
}

/** Start a hostile AS on 127.0.0.1, port 0. */
export async function startHostileAs(options: HostileAsOptions = {}): Promise<HostileAs> {
  const clientId = options.clientId ?? 'hostile-client';
  const clientSecret = options.clientSecret ?? random();
  const basic = `Basic ${Buffer.from(`${formEncode(clientId)}:${formEncode(clientSecret)}`).toString('base64')}`;
  let current = await newKey();
  const published: JWK[] = [current.publicJwk];
  const stranger = await newKey();
  const pushed = new Map<string, Record<string, string>>(); // request_uri → the pushed parameters
  const codes = new Map<string, Granted>();
  const timers = new Set<NodeJS.Timeout>();
  const listening: Listening = await listen(0, '127.0.0.1');
  const issuer = listening.url;
  const url = (name: EndpointName): string => issuer + ENDPOINT_PATHS[name];

  const as: HostileAs = {
    issuer,
    clientId,
    clientSecret,
    requests: [],
    script: {},
    idToken: {},
    issued: [],
    url,
    get kid() {
      return current.kid;
    },
    count: (endpoint) => as.requests.filter((r) => r.endpoint === endpoint).length,
    async rotateKey() {
      current = await newKey();
      published.push(current.publicJwk);
      return current.kid;
    },
    reset() {
      for (const name of Object.keys(as.script)) delete as.script[name as EndpointName];
      as.idToken = {};
      as.requests.length = 0;
    },
    async close() {
      for (const timer of timers) clearTimeout(timer);
      await listening.close();
    },
  };

  async function signIdToken(claims: JWTPayload): Promise<string> {
    const script = as.idToken;
    const payload = script.claims ? script.claims(claims) : claims;
    if (script.signer === 'none') return new UnsecuredJWT(payload).encode();
    if (script.signer === 'client-secret') {
      return new SignJWT(payload)
        .setProtectedHeader({ alg: 'HS256', ...script.header })
        .sign(new TextEncoder().encode(clientSecret));
    }
    // Signed by hand, so that the header and payload may be anything (jose refuses to sign some).
    const key = script.signer === 'stranger' ? stranger : current;
    const encode = (text: string): string => Buffer.from(text).toString('base64url');
    const input = `${encode(JSON.stringify({ alg: 'ES256', kid: key.kid, ...script.header }))}.${encode(script.rawPayload ?? JSON.stringify(payload))}`;
    const signature = await crypto.subtle.sign(
      { name: 'ECDSA', hash: 'SHA-256' },
      key.privateKey,
      new TextEncoder().encode(input),
    );
    return `${input}.${Buffer.from(signature).toString('base64url')}`;
  }

  async function normalAnswer(request: AsRequest): Promise<NormalAnswer> {
    const form = request.form;
    switch (request.endpoint) {
      case 'discovery':
        return {
          status: 200,
          body: {
            issuer,
            authorization_endpoint: url('auth'),
            token_endpoint: url('token'),
            jwks_uri: url('jwks'),
            pushed_authorization_request_endpoint: url('par'),
            require_pushed_authorization_requests: true,
            authorization_response_iss_parameter_supported: true,
            id_token_signing_alg_values_supported: ['ES256'],
            response_types_supported: ['code'],
            code_challenge_methods_supported: ['S256'],
          },
        };
      case 'par': {
        if (request.headers.authorization !== basic || form.client_id !== clientId)
          return { status: 401, body: { error: 'invalid_client' } };
        if (
          form.response_type !== 'code' ||
          form.code_challenge_method !== 'S256' ||
          !form.redirect_uri ||
          !form.state
        ) {
          return { status: 400, body: { error: 'invalid_request' } };
        }
        const requestUri = `urn:ietf:params:oauth:request_uri:${random()}`;
        pushed.set(requestUri, form);
        return { status: 201, body: { request_uri: requestUri, expires_in: 60 } };
      }
      case 'auth': {
        const query = new URL(request.url, issuer).searchParams;
        // A classic request (no request_uri) carries its parameters in the query (RFC 6749 §4.1.1).
        const classic =
          query.get('request_uri') === null && query.get('response_type') === 'code'
            ? Object.fromEntries(query)
            : undefined;
        const entry = classic ?? pushed.get(query.get('request_uri') ?? '');
        if (entry === undefined || query.get('client_id') !== clientId)
          return { status: 400, body: 'unknown request_uri' };
        pushed.delete(query.get('request_uri') ?? '');
        const code = random();
        codes.set(code, { params: entry, used: false });
        const target = new URL(entry.redirect_uri!);
        target.searchParams.set('code', code);
        target.searchParams.set('state', entry.state!);
        target.searchParams.set('iss', issuer);
        return { status: 303, headers: { location: target.href } };
      }
      case 'token': {
        if (request.headers.authorization !== basic)
          return { status: 401, body: { error: 'invalid_client' } };
        const grant = codes.get(form.code ?? '');
        if (
          form.grant_type !== 'authorization_code' ||
          grant === undefined ||
          grant.used ||
          form.redirect_uri !== grant.params.redirect_uri ||
          s256(form.code_verifier ?? '') !== grant.params.code_challenge
        ) {
          return { status: 400, body: { error: 'invalid_grant' } };
        }
        grant.used = true;
        const now = Math.floor(Date.now() / 1000);
        const idToken = await signIdToken({
          iss: issuer,
          aud: clientId,
          sub: 'mallory',
          nonce: grant.params.nonce,
          iat: now,
          exp: now + 300,
          name: 'Mallory Hostile',
        });
        const issued = { code: form.code!, accessToken: random(), refreshToken: random(), idToken };
        as.issued.push(issued);
        return {
          status: 200,
          body: {
            access_token: issued.accessToken,
            token_type: 'Bearer',
            id_token: idToken,
            refresh_token: issued.refreshToken,
            expires_in: 600,
            scope: grant.params.scope,
          },
        };
      }
      case 'jwks':
        return { status: 200, body: { keys: published } };
      default:
        return { status: 404, body: { error: 'not_found' } };
    }
  }

  const delay = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
    });

  async function answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const request = await readRequest(req);
    as.requests.push(request);
    const script = request.endpoint === 'other' ? undefined : as.script[request.endpoint];
    const bad = typeof script === 'function' ? script(request) : script;
    const normal = await normalAnswer(request);
    if (bad?.delayMs !== undefined) await delay(bad.delayMs);
    if (bad?.destroy) return void req.socket.destroy();
    if (bad?.hang === 'silent') return;
    if (bad?.redirectTo !== undefined) return void res.writeHead(302, { location: bad.redirectTo }).end();
    const status = bad?.status ?? normal.status;
    const headers = {
      'content-type': 'application/json',
      'cache-control': 'no-store',
      ...normal.headers,
      ...bad?.headers,
    };
    if (bad?.hugeBytes !== undefined) return streamHuge(res, status, headers, bad.hugeBytes);
    const replaced = bad !== undefined && 'body' in bad;
    const body = replaced
      ? typeof bad.body === 'function'
        ? (bad.body as (n: unknown) => unknown)(normal.body)
        : bad.body
      : normal.body;
    const text = body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body);
    if (bad?.hang === 'body') {
      res.writeHead(status, headers).write(text.slice(0, Math.max(1, text.length >> 1)) || '{');
      return;
    }
    res.writeHead(status, headers).end(text);
  }

  listening.server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    answer(req, res).catch((err: unknown) => {
      if (!res.headersSent)
        res.writeHead(500, { 'content-type': 'text/plain' }).end(`hostile AS broke: ${String(err)}`);
    });
  });
  return as;
}

async function readRequest(req: IncomingMessage): Promise<AsRequest> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const path = new URL(req.url ?? '/', 'http://x').pathname;
  const endpoint = (Object.entries(ENDPOINT_PATHS).find(([, p]) => p === path)?.[0] ??
    'other') as AsRequest['endpoint'];
  const form =
    req.method === 'POST'
      ? Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString('utf8')))
      : {};
  return { endpoint, method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, form };
}

/** Stream a syntactically valid JSON object of about `size` bytes, stopping when the client leaves. */
function streamHuge(
  res: ServerResponse,
  status: number,
  headers: Record<string, string>,
  size: number,
): void {
  res.writeHead(status, headers);
  const chunk = 'x'.repeat(16_384);
  let sent = 0;
  res.write('{"request_uri":"urn:x","expires_in":60,"keys":[],"pad":"');
  const pump = (): void => {
    while (sent < size && !res.destroyed) {
      sent += chunk.length;
      if (!res.write(chunk)) return void res.once('drain', pump);
    }
    if (!res.destroyed) res.end('"}');
  };
  res.on('error', () => {});
  pump();
}
