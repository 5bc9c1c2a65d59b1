/**
 * A scripted authorization server for the footprint scenario: just enough of discovery, PAR,
 * authorization (no login page: it answers at once with a code), token (an ES256 ID token with
 * the pushed nonce) and JWKS to drive tens of thousands of logins in seconds. It checks nothing:
 * it exists to load the app, not to test it. The real AS is used everywhere else.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';

interface Pushed {
  clientId: string;
  redirectUri: string;
  state: string;
  nonce: string;
}

const REQUEST_URI_PREFIX = 'urn:ietf:params:oauth:request_uri:';
const token = (): string => randomBytes(32).toString('base64url');

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res
    .writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers })
    .end(JSON.stringify(body));
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

/** Build the scripted AS's request handler for `issuer` (its own base URL). */
export async function scriptedAuthorizationServer(issuer: string): Promise<RequestListener> {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const kid = token().slice(0, 16);
  const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' } satisfies JWK] };
  const metadata = {
    issuer,
    authorization_endpoint: `${issuer}/auth`,
    token_endpoint: `${issuer}/token`,
    jwks_uri: `${issuer}/jwks`,
    pushed_authorization_request_endpoint: `${issuer}/request`,
    require_pushed_authorization_requests: true,
    authorization_response_iss_parameter_supported: true,
    response_types_supported: ['code'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['ES256'],
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'private_key_jwt'],
  };
  const pushed = new Map<string, Pushed>();
  const codes = new Map<string, Pushed>();

  const routes: Record<
    string,
    (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void> | void
  > = {
    'GET /.well-known/openid-configuration': (_req, res) => send(res, 200, metadata),
    'GET /jwks': (_req, res) => send(res, 200, jwks),
    'POST /request': async (req, res) => {
      const form = await readForm(req);
      const requestUri = REQUEST_URI_PREFIX + token();
      pushed.set(requestUri, {
        clientId: form.get('client_id') ?? '',
        redirectUri: form.get('redirect_uri') ?? '',
        state: form.get('state') ?? '',
        nonce: form.get('nonce') ?? '',
      });
      send(res, 201, { request_uri: requestUri, expires_in: 60 });
    },
    'GET /auth': (_req, res, url) => {
      const requestUri = url.searchParams.get('request_uri') ?? '';
      const request = pushed.get(requestUri);
      if (request === undefined) return send(res, 400, { error: 'invalid_request_uri' });
      pushed.delete(requestUri);
      const code = token();
      codes.set(code, request);
      const target = new URL(request.redirectUri);
      target.search = new URLSearchParams({ code, state: request.state, iss: issuer }).toString();
      res.writeHead(303, { location: target.href }).end();
    },
    'POST /token': async (req, res) => {
      const code = (await readForm(req)).get('code') ?? '';
      const request = codes.get(code);
      if (request === undefined) return send(res, 400, { error: 'invalid_grant' });
      codes.delete(code);
      send(res, 200, {
        access_token: token(),
        token_type: 'Bearer',
        expires_in: 600,
        scope: 'openid profile email',
        id_token: await idToken(privateKey, kid, issuer, request),
      });
    },
  };

  return (req, res) => {
    const url = new URL(req.url ?? '/', issuer);
    const route = routes[`${req.method} ${url.pathname}`];
    if (route === undefined) return send(res, 404, { error: 'not_found' });
    Promise.resolve(route(req, res, url)).catch((err: unknown) => send(res, 500, { error: String(err) }));
  };
}

function idToken(key: CryptoKey, kid: string, issuer: string, request: Pushed): Promise<string> {
  return new SignJWT({
    nonce: request.nonce,
    name: 'Alice Example',
    given_name: 'Alice',
    family_name: 'Example',
    email: 'alice@example.test',
    email_verified: true,
  })
    .setProtectedHeader({ alg: 'ES256', kid, typ: 'JWT' })
    .setIssuer(issuer)
    .setSubject('alice')
    .setAudience(request.clientId)
    .setIssuedAt()
    .setExpirationTime('10m')
    .sign(key);
}
