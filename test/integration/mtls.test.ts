/**
 * Mutual TLS (RFC 8705) against oidc-provider behind a local TLS server that asks for client
 * certificates: `tls_client_auth` with a CA-issued certificate, `self_signed_tls_client_auth`
 * with a registered self-signed one, the AS's `mtls_endpoint_aliases` (§5) for PAR and token, and
 * certificate-bound access tokens (§3). Certificates are made at run time with openssl.
 */
import { createPublicKey, X509Certificate } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { exportJWK } from 'jose';
import type { ClientMetadata, Configuration, KoaContextWithOIDC } from 'oidc-provider';
import { createTestPki, type TestPki } from '../helpers/certs.js';
import { backChannel, startStack, type Stack } from '../helpers/stack.js';

let pki: TestPki;
let tlsServer: Server;
let aliasBase: string;
beforeAll(async () => {
  pki = createTestPki();
  tlsServer = createServer({ key: pki.server.key, cert: pki.server.cert, ca: pki.ca.cert, requestCert: true, rejectUnauthorized: false });
  await new Promise<void>((resolve) => tlsServer.listen(0, '127.0.0.1', resolve));
  aliasBase = `https://127.0.0.1:${(tlsServer.address() as { port: number }).port}`;
});
afterAll(async () => {
  tlsServer.closeAllConnections();
  await new Promise((resolve) => tlsServer.close(resolve));
  pki.remove();
});

function peerCertificate(ctx: KoaContextWithOIDC): X509Certificate | undefined {
  const socket = ctx.req.socket as Partial<TLSSocket>;
  const peer = socket.getPeerCertificate?.(false);
  return peer?.raw ? new X509Certificate(peer.raw) : undefined;
}

function enableMtls(extraClients: (appUrl: string) => ClientMetadata[]) {
  return (config: Configuration, { appUrl }: { appUrl: string }): void => {
    config.clientAuthMethods = ['client_secret_basic', 'private_key_jwt', 'tls_client_auth', 'self_signed_tls_client_auth'];
    config.features!.mTLS = {
      enabled: true, certificateBoundAccessTokens: true, tlsClientAuth: true, selfSignedTlsClientAuth: true,
      getCertificate: peerCertificate,
      certificateAuthorized: (ctx: KoaContextWithOIDC) => (ctx.req.socket as TLSSocket).authorized === true,
      certificateSubjectMatches: (ctx: KoaContextWithOIDC, property: string, expected: string) =>
        property === 'tls_client_auth_subject_dn' && peerCertificate(ctx)?.subject === expected,
    } as never;
    config.discovery = { mtls_endpoint_aliases: { token_endpoint: `${aliasBase}/token`, pushed_authorization_request_endpoint: `${aliasBase}/request` } };
    (config.clients as ClientMetadata[]).push(...extraClients(appUrl));
  };
}

async function startMtlsStack(clients: (appUrl: string) => ClientMetadata[], overrides: Record<string, unknown>): Promise<{ stack: Stack; bound: unknown[] }> {
  const stack = await startStack({ configureAs: enableMtls(clients), overrides: { clientSecret: undefined, ...overrides } });
  tlsServer.removeAllListeners('request');
  tlsServer.on('request', stack.provider.callback());
  const bound: unknown[] = [];
  (stack.provider as unknown as NodeJS.EventEmitter).on('access_token.saved', (token: Record<string, unknown>) => void bound.push(token['x5t#S256']));
  return { stack, bound };
}

describe('tls_client_auth', () => {
  let stack: Stack;
  let bound: unknown[];
  let client: ReturnType<TestPki['client']>;
  beforeAll(async () => {
    client = pki.client('mtls-client');
    ({ stack, bound } = await startMtlsStack((appUrl) => [{
      client_id: 'mtls-client', token_endpoint_auth_method: 'tls_client_auth', tls_client_auth_subject_dn: 'CN=mtls-client',
      tls_client_certificate_bound_access_tokens: true, redirect_uris: [`${appUrl}/callback`], post_logout_redirect_uris: [`${appUrl}/`],
    }], { clientId: 'mtls-client', clientAuthMethod: 'tls_client_auth', tlsClientCert: client.certFile, tlsClientKey: client.keyFile, tlsCa: pki.ca.certFile }));
  });
  afterAll(() => stack.close());

  it('logs in through the mTLS aliases with the client certificate, and the token is bound to it', async () => {
    const before = stack.record.length;
    const hops = await stack.browser().login(stack.appUrl, { returnTo: '/profile' });
    expect(hops.at(-1)!.body).toContain('Alice Example');
    const [par, token] = backChannel(stack.record.slice(before));
    expect(par).toMatchObject({ endpoint: 'par', status: 201 });
    expect(token).toMatchObject({ endpoint: 'token', status: 200 });
    for (const req of [par!, token!]) {
      expect(req.authorization).toBeUndefined();
      expect(req.body.client_id).toBe('mtls-client');
      expect(req.body.client_secret).toBeUndefined();
      expect(req.body.client_assertion).toBeUndefined();
    }
    const thumbprint = (await import('node:crypto')).createHash('sha256').update(new X509Certificate(client.cert).raw).digest('base64url');
    expect(bound.at(-1)).toBe(thumbprint);
  });
});

describe('self_signed_tls_client_auth', () => {
  let stack: Stack;
  beforeAll(async () => {
    const self = pki.selfSigned('self-client');
    const x509 = new X509Certificate(self.cert);
    const jwk = { ...(await exportJWK(createPublicKey(self.cert))), x5c: [x509.raw.toString('base64')] };
    ({ stack } = await startMtlsStack((appUrl) => [{
      client_id: 'self-client', token_endpoint_auth_method: 'self_signed_tls_client_auth', jwks: { keys: [jwk] },
      redirect_uris: [`${appUrl}/callback`], post_logout_redirect_uris: [`${appUrl}/`],
    }], { clientId: 'self-client', clientAuthMethod: 'self_signed_tls_client_auth', tlsClientCert: self.certFile, tlsClientKey: self.keyFile, tlsCa: pki.ca.certFile }));
  });
  afterAll(() => stack.close());

  it('logs in with the registered self-signed certificate', async () => {
    const hops = await stack.browser().login(stack.appUrl, { returnTo: '/profile' });
    expect(hops.at(-1)!.body).toContain('Alice Example');
  });
});

describe('a certificate the AS does not trust', () => {
  let stack: Stack;
  beforeAll(async () => {
    const stranger = pki.strangerClient('mtls-client');
    ({ stack } = await startMtlsStack((appUrl) => [{
      client_id: 'mtls-client', token_endpoint_auth_method: 'tls_client_auth', tls_client_auth_subject_dn: 'CN=mtls-client',
      redirect_uris: [`${appUrl}/callback`],
    }], { clientId: 'mtls-client', clientAuthMethod: 'tls_client_auth', tlsClientCert: stranger.certFile, tlsClientKey: stranger.keyFile, tlsCa: pki.ca.certFile }));
  });
  afterAll(() => stack.close());

  it('fails the push with par_error (invalid_client), explained', async () => {
    const res = await stack.browser().request(`${stack.appUrl}/login`, { headers: { accept: 'application/json', 'sec-fetch-mode': 'cors' } });
    expect(res.status).toBe(502);
    expect(JSON.parse(res.body)).toMatchObject({ error: 'par_error' });
    expect(stack.logs.at(-1)).toMatchObject({ code: 'par_error', as_error: 'invalid_client' });
  });
});
